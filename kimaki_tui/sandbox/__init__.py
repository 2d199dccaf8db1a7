"""Where each thread's OpenCode server runs: shared, in a bubblewrap sandbox, or in a podman
container, behind one `SandboxBackend` interface (api.py) that a Kubernetes backend would also
implement (docs/sandbox.md)."""
