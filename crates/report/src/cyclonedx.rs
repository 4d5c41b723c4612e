//! CycloneDX 1.6 JSON output.
