//! SPDX 2.3 JSON output.
