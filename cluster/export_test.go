package cluster

// Test hooks for the external test package.

// ChunkKeyOf returns the key of chunk i of key's current generation, as read
// from the manifest raw.
func ChunkKeyOf(key string, raw []byte, i int) (string, error) {
	m, err := parseManifest(raw)
	if err != nil {
		return "", err
	}
	return (&Cluster{}).chunkKeys(key, m)[i], nil
}

// ManifestKey is manifestKey.
var ManifestKey = manifestKey

// IsChunkOf reports whether k is a chunk key of key, named as a Store of
// key names it.
func IsChunkOf(k, key string) bool {
	id, ok := parseChunkKey(k)
	return ok && id.name == keyName(key, usesDigest(key))
}

// WaitCleanup waits for the background deletions of replaced values, for
// benchmarks that must not time them in their baseline.
func (c *Cluster) WaitCleanup() { c.cleanup.Wait() }
