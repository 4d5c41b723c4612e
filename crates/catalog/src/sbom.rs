//! Reading SBOMs (CycloneDX, SPDX) back into packages.
