// The INI reader and the typed configuration live here (see docs/ARCHITECTURE.md).
