package disk

// StagedName returns the staged file's path, for tests that damage it.
func StagedName(st *Staged) string { return st.name }
