"""Images and artifacts in OCI registries: references resolved to digests, manifests and
blobs fetched with auth, retries and verification (docs/registries.md)."""
