//! SPDX 2.3 JSON: the artifact, its operating system and one application per
//! lockfile as packages that `CONTAINS` the packages found in them.
//!
//! Facts SPDX has no field for (package type, source package, layer, dev and
//! indirect) are package annotations `Name: value` by the
//! `Tool: rampart-<version>` annotator, named as the CycloneDX properties.
//! Licenses made of SPDX identifiers are SPDX expressions; any other text is
//! a `LicenseRef-` defined in `hasExtractedLicensingInfos`. The license list
//! is also what the CycloneDX writer uses to tell ids from names.

use std::collections::{BTreeMap, HashSet};
use std::io::Write;

use rampart_types::{ArtifactType, Report, ResultClass};
use serde::Serialize;

use crate::{
    FNV_OFFSET, ReportError, SbomStamp, WriteOptions, class_name, fnv1a, image_facts, image_purl,
    package_facts, sbom_os, sbom_packages, sbom_purl, unique,
};

pub(crate) fn write(report: &Report, options: &WriteOptions, out: &mut dyn Write) -> Result<(), ReportError> {
    let stamp = SbomStamp::new(report, "spdx")?;
    let mut b = Builder {
        ids: HashSet::new(),
        packages: Vec::new(),
        relationships: Vec::new(),
        licenses: BTreeMap::new(),
        annotator: format!("Tool: rampart-{}", options.tool_version),
        time: stamp.time.clone(),
    };

    let (kind, purpose, namespace_kind) = match report.artifact_type {
        ArtifactType::ContainerImage => ("ContainerImage", "CONTAINER", "container_image"),
        ArtifactType::Filesystem => ("Filesystem", "SOURCE", "filesystem"),
        ArtifactType::Repository => ("Repository", "SOURCE", "repository"),
        ArtifactType::Cyclonedx | ArtifactType::Spdx => ("SBOM", "APPLICATION", "sbom"),
    };
    let artifact = b.add(
        kind,
        &report.artifact_name,
        Package {
            name: report.artifact_name.clone(),
            purpose,
            external_refs: image_purl(report).into_iter().map(purl_ref).collect(),
            annotations: b.annotations(image_facts(report)),
            ..Package::default()
        },
    );
    b.relate("SPDXRef-DOCUMENT", "DESCRIBES", &artifact);

    // One OS package for the detected OS and every OS-package result.
    let os = sbom_os(report).map(|(name, version)| {
        let os = b.add(
            "OperatingSystem",
            &format!("{name} {version}"),
            Package {
                // The JSON schema's spelling; the spec's text has `OPERATING-SYSTEM`.
                purpose: "OPERATING_SYSTEM",
                annotations: b.annotations(vec![
                    ("Class", class_name(ResultClass::OsPkgs).to_string()),
                    ("Type", name.clone()),
                ]),
                name,
                version_info: version,
                ..Package::default()
            },
        );
        b.relate(&artifact, "CONTAINS", &os);
        os
    });

    for result in &report.results {
        let parent = match (result.class, &os) {
            (ResultClass::OsPkgs, Some(os)) => os.clone(),
            (ResultClass::LangPkgs, _) => {
                let app = b.add(
                    "Application",
                    &result.target,
                    Package {
                        name: result.target.clone(),
                        purpose: "APPLICATION",
                        annotations: b.annotations(vec![
                            ("Class", class_name(result.class).to_string()),
                            ("Type", result.kind.clone()),
                        ]),
                        ..Package::default()
                    },
                );
                b.relate(&artifact, "CONTAINS", &app);
                app
            }
            _ => continue,
        };
        for pkg in sbom_packages(result) {
            let purl = sbom_purl(report, result, &pkg.identifier.purl);
            let key = format!("{}\0{}\0{}", result.target, purl, pkg.id);
            let license_declared = b.license_expression(&pkg.licenses);
            let id = b.add(
                "Package",
                &key,
                Package {
                    name: pkg.name.clone(),
                    version_info: pkg.version.clone(),
                    license_declared,
                    external_refs: Some(purl).filter(|p| !p.is_empty()).into_iter().map(purl_ref).collect(),
                    purpose: "LIBRARY",
                    annotations: b.annotations(package_facts(result, &pkg)),
                    ..Package::default()
                },
            );
            b.relate(&parent, "CONTAINS", &id);
        }
    }

    let doc = Document {
        spdx_version: "SPDX-2.3",
        data_license: "CC0-1.0",
        spdx_id: "SPDXRef-DOCUMENT",
        name: &report.artifact_name,
        document_namespace: format!(
            "{}/spdx/{namespace_kind}/{}-{}",
            env!("CARGO_PKG_REPOSITORY"),
            rampart_types::percent_encode(&report.artifact_name),
            stamp.uuid
        ),
        creation_info: CreationInfo {
            creators: vec![format!("Tool: rampart-{}", options.tool_version)],
            created: stamp.time,
            license_list_version: LICENSE_LIST_VERSION,
        },
        packages: b.packages,
        relationships: b.relationships,
        has_extracted_licensing_infos: b
            .licenses
            .into_iter()
            .map(|(license_id, text)| ExtractedLicense {
                license_id,
                extracted_text: text.clone(),
                name: text,
            })
            .collect(),
    };
    serde_json::to_writer_pretty(&mut *out, &doc)?;
    out.write_all(b"\n")?;
    Ok(())
}

fn purl_ref(purl: String) -> ExternalRef {
    ExternalRef { reference_category: "PACKAGE-MANAGER", reference_type: "purl", reference_locator: purl }
}

struct Builder {
    ids: HashSet<String>,
    packages: Vec<Package>,
    relationships: Vec<Relationship>,
    /// `LicenseRef-` ids and the license text each stands for.
    licenses: BTreeMap<String, String>,
    annotator: String,
    time: String,
}

impl Builder {
    /// Adds the package as `SPDXRef-<kind>-<hash of key>` and returns that
    /// SPDXID: stable across runs, and made of the only characters an SPDXID
    /// may hold.
    fn add(&mut self, kind: &str, key: &str, mut package: Package) -> String {
        let id = format!("SPDXRef-{kind}-{:016x}", fnv1a(key.as_bytes(), FNV_OFFSET));
        package.spdx_id = unique(&mut self.ids, id, "-");
        let id = package.spdx_id.clone();
        self.packages.push(package);
        id
    }

    fn relate(&mut self, from: &str, relationship_type: &'static str, to: &str) {
        self.relationships.push(Relationship {
            spdx_element_id: from.to_string(),
            related_spdx_element: to.to_string(),
            relationship_type,
        });
    }

    /// Named facts as annotations, sorted; empty values left out.
    fn annotations(&self, facts: Vec<(&'static str, String)>) -> Vec<Annotation> {
        let mut facts: Vec<(&str, String)> = facts.into_iter().filter(|(_, v)| !v.is_empty()).collect();
        facts.sort();
        facts
            .into_iter()
            .map(|(name, value)| Annotation {
                annotation_date: self.time.clone(),
                annotation_type: "OTHER",
                annotator: self.annotator.clone(),
                comment: format!("{name}: {value}"),
            })
            .collect()
    }

    /// The licenses joined with `AND`, each an SPDX expression or a
    /// `LicenseRef-` to its text; `NOASSERTION` when there are none.
    fn license_expression(&mut self, licenses: &[String]) -> String {
        let licenses: Vec<&str> = licenses.iter().map(|l| l.trim()).filter(|l| !l.is_empty()).collect();
        let mut parts: Vec<String> = Vec::new();
        for &text in &licenses {
            let part = match license_expression(text) {
                Some(e) if licenses.len() > 1 && e.contains(' ') => format!("({e})"),
                Some(e) => e,
                None => {
                    let id = format!("LicenseRef-{:016x}", fnv1a(text.as_bytes(), FNV_OFFSET));
                    self.licenses.insert(id.clone(), text.to_string());
                    id
                }
            };
            if !parts.contains(&part) {
                parts.push(part);
            }
        }
        if parts.is_empty() { NOASSERTION.to_string() } else { parts.join(" AND ") }
    }
}

const NOASSERTION: &str = "NOASSERTION";

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Document<'a> {
    spdx_version: &'static str,
    data_license: &'static str,
    #[serde(rename = "SPDXID")]
    spdx_id: &'static str,
    name: &'a str,
    document_namespace: String,
    creation_info: CreationInfo,
    packages: Vec<Package>,
    relationships: Vec<Relationship>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    has_extracted_licensing_infos: Vec<ExtractedLicense>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CreationInfo {
    creators: Vec<String>,
    created: String,
    license_list_version: &'static str,
}

/// A package; the analysis fields say what rampart did not do: it made no
/// license conclusion, read no download location or supplier, and did not
/// analyze files.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Package {
    name: String,
    #[serde(rename = "SPDXID")]
    spdx_id: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    version_info: String,
    supplier: &'static str,
    download_location: &'static str,
    files_analyzed: bool,
    license_concluded: &'static str,
    license_declared: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    external_refs: Vec<ExternalRef>,
    #[serde(rename = "primaryPackagePurpose")]
    purpose: &'static str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    annotations: Vec<Annotation>,
}

impl Default for Package {
    fn default() -> Self {
        Package {
            name: String::new(),
            spdx_id: String::new(),
            version_info: String::new(),
            supplier: NOASSERTION,
            download_location: NOASSERTION,
            files_analyzed: false,
            license_concluded: NOASSERTION,
            license_declared: NOASSERTION.to_string(),
            external_refs: Vec::new(),
            purpose: "LIBRARY",
            annotations: Vec::new(),
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ExternalRef {
    reference_category: &'static str,
    reference_type: &'static str,
    reference_locator: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Annotation {
    annotation_date: String,
    annotation_type: &'static str,
    annotator: String,
    comment: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Relationship {
    spdx_element_id: String,
    related_spdx_element: String,
    relationship_type: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ExtractedLicense {
    license_id: String,
    extracted_text: String,
    name: String,
}

/// The canonical spelling of an SPDX license or exception identifier
/// (matched case-insensitively, as SPDX says), or `None`.
pub(crate) fn license_id(s: &str) -> Option<&'static str> {
    IDS.split_ascii_whitespace().find(|id| id.eq_ignore_ascii_case(s))
}

/// `s` as a valid SPDX license expression, identifiers in their canonical
/// spelling and operators upper-case, or `None`. `LicenseRef-`s are not
/// accepted: a document must define each one it uses.
pub(crate) fn license_expression(s: &str) -> Option<String> {
    let mut tokens = Vec::new();
    for word in s.split_whitespace() {
        let mut rest = word;
        while !rest.is_empty() {
            let cut = rest.find(['(', ')']).unwrap_or(rest.len());
            let (token, tail) = if cut == 0 { rest.split_at(1) } else { rest.split_at(cut) };
            tokens.push(token);
            rest = tail;
        }
    }
    let mut parser = Expression { tokens, pos: 0, out: String::new() };
    parser.expression(0)?;
    (parser.pos == parser.tokens.len()).then_some(parser.out)
}

/// A recursive-descent check of SPDX expression syntax that writes the
/// canonical form as it goes.
struct Expression<'a> {
    tokens: Vec<&'a str>,
    pos: usize,
    out: String,
}

/// Deeper nesting than any real license needs; it bounds the recursion.
const MAX_DEPTH: usize = 16;

impl Expression<'_> {
    fn next(&mut self) -> Option<&str> {
        let token = self.tokens.get(self.pos).copied()?;
        self.pos += 1;
        Some(token)
    }

    fn operator(&self) -> Option<&'static str> {
        let token = self.tokens.get(self.pos)?;
        ["AND", "OR", "WITH"].into_iter().find(|op| token.eq_ignore_ascii_case(op))
    }

    fn expression(&mut self, depth: usize) -> Option<()> {
        self.term(depth)?;
        while let Some(op @ ("AND" | "OR")) = self.operator() {
            self.pos += 1;
            self.out.push_str(&format!(" {op} "));
            self.term(depth)?;
        }
        Some(())
    }

    fn term(&mut self, depth: usize) -> Option<()> {
        match self.next()? {
            "(" if depth < MAX_DEPTH => {
                self.out.push('(');
                self.expression(depth + 1)?;
                (self.next()? == ")").then_some(())?;
                self.out.push(')');
            }
            word => {
                let id = match license_id(word) {
                    Some(id) => id.to_string(),
                    None => format!("{}+", license_id(word.strip_suffix('+')?)?),
                };
                self.out.push_str(&id);
                if self.operator() == Some("WITH") {
                    self.pos += 1;
                    let exception = license_id(self.next()?)?;
                    self.out.push_str(&format!(" WITH {exception}"));
                }
            }
        }
        Some(())
    }
}

/// The version of the SPDX license list [`IDS`] comes from.
const LICENSE_LIST_VERSION: &str = "3.28";

/// SPDX license and exception identifiers, as CycloneDX 1.6 lists them
/// (`spdx.schema.json`), which is also the set its `license.id` accepts.
const IDS: &str = "\
0BSD 3D-Slicer-1.0 AAL Abstyles AdaCore-doc Adobe-2006 Adobe-Display-PostScript Adobe-Glyph \
Adobe-Utopia ADSL Advanced-Cryptics-Dictionary AFL-1.1 AFL-1.2 AFL-2.0 AFL-2.1 AFL-3.0 Afmparse \
AGPL-1.0 AGPL-1.0-only AGPL-1.0-or-later AGPL-3.0 AGPL-3.0-only AGPL-3.0-or-later Aladdin \
ALGLIB-Documentation AMD-newlib AMDPLPA AML AML-glslang AMPAS ANTLR-PD ANTLR-PD-fallback any-OSI \
any-OSI-perl-modules Apache-1.0 Apache-1.1 Apache-2.0 APAFML APL-1.0 App-s2p APSL-1.0 APSL-1.1 \
APSL-1.2 APSL-2.0 Arphic-1999 Artistic-1.0 Artistic-1.0-cl8 Artistic-1.0-Perl Artistic-2.0 \
Artistic-dist Aspell-RU ASWF-Digital-Assets-1.0 ASWF-Digital-Assets-1.1 Baekmuk Bahyph Barr \
bcrypt-Solar-Designer Beerware Bitstream-Charter Bitstream-Vera BitTorrent-1.0 BitTorrent-1.1 \
blessing BlueOak-1.0.0 Boehm-GC Boehm-GC-without-fee BOLA-1.1 Borceux Brian-Gladman-2-Clause \
Brian-Gladman-3-Clause BSD-1-Clause BSD-2-Clause BSD-2-Clause-Darwin BSD-2-Clause-first-lines \
BSD-2-Clause-FreeBSD BSD-2-Clause-NetBSD BSD-2-Clause-Patent BSD-2-Clause-pkgconf-disclaimer \
BSD-2-Clause-Views BSD-3-Clause BSD-3-Clause-acpica BSD-3-Clause-Attribution BSD-3-Clause-Clear \
BSD-3-Clause-flex BSD-3-Clause-HP BSD-3-Clause-LBNL BSD-3-Clause-Modification \
BSD-3-Clause-No-Military-License BSD-3-Clause-No-Nuclear-License \
BSD-3-Clause-No-Nuclear-License-2014 BSD-3-Clause-No-Nuclear-Warranty BSD-3-Clause-Open-MPI \
BSD-3-Clause-Sun BSD-3-Clause-Tso BSD-4-Clause BSD-4-Clause-Shortened BSD-4-Clause-UC \
BSD-4.3RENO BSD-4.3TAHOE BSD-Advertising-Acknowledgement BSD-Attribution-HPND-disclaimer \
BSD-Inferno-Nettverk BSD-Mark-Modifications BSD-Protection BSD-Source-beginning-file \
BSD-Source-Code BSD-Systemics BSD-Systemics-W3Works BSL-1.0 Buddy BUSL-1.1 bzip2-1.0.5 \
bzip2-1.0.6 C-UDA-1.0 CAL-1.0 CAL-1.0-Combined-Work-Exception Caldera Caldera-no-preamble \
CAPEC-tou Catharon CATOSL-1.1 CC-BY-1.0 CC-BY-2.0 CC-BY-2.5 CC-BY-2.5-AU CC-BY-3.0 CC-BY-3.0-AT \
CC-BY-3.0-AU CC-BY-3.0-DE CC-BY-3.0-IGO CC-BY-3.0-NL CC-BY-3.0-US CC-BY-4.0 CC-BY-NC-1.0 \
CC-BY-NC-2.0 CC-BY-NC-2.5 CC-BY-NC-3.0 CC-BY-NC-3.0-DE CC-BY-NC-4.0 CC-BY-NC-ND-1.0 \
CC-BY-NC-ND-2.0 CC-BY-NC-ND-2.5 CC-BY-NC-ND-3.0 CC-BY-NC-ND-3.0-DE CC-BY-NC-ND-3.0-IGO \
CC-BY-NC-ND-4.0 CC-BY-NC-SA-1.0 CC-BY-NC-SA-2.0 CC-BY-NC-SA-2.0-DE CC-BY-NC-SA-2.0-FR \
CC-BY-NC-SA-2.0-UK CC-BY-NC-SA-2.5 CC-BY-NC-SA-3.0 CC-BY-NC-SA-3.0-DE CC-BY-NC-SA-3.0-IGO \
CC-BY-NC-SA-4.0 CC-BY-ND-1.0 CC-BY-ND-2.0 CC-BY-ND-2.5 CC-BY-ND-3.0 CC-BY-ND-3.0-DE CC-BY-ND-4.0 \
CC-BY-SA-1.0 CC-BY-SA-2.0 CC-BY-SA-2.0-UK CC-BY-SA-2.1-JP CC-BY-SA-2.5 CC-BY-SA-3.0 \
CC-BY-SA-3.0-AT CC-BY-SA-3.0-DE CC-BY-SA-3.0-IGO CC-BY-SA-4.0 CC-PDDC CC-PDM-1.0 CC-SA-1.0 \
CC0-1.0 CDDL-1.0 CDDL-1.1 CDL-1.0 CDLA-Permissive-1.0 CDLA-Permissive-2.0 CDLA-Sharing-1.0 \
CECILL-1.0 CECILL-1.1 CECILL-2.0 CECILL-2.1 CECILL-B CECILL-C CERN-OHL-1.1 CERN-OHL-1.2 \
CERN-OHL-P-2.0 CERN-OHL-S-2.0 CERN-OHL-W-2.0 CFITSIO check-cvs checkmk ClArtistic Clips CMU-Mach \
CMU-Mach-nodoc CNRI-Jython CNRI-Python CNRI-Python-GPL-Compatible COIL-1.0 Community-Spec-1.0 \
Condor-1.1 copyleft-next-0.3.0 copyleft-next-0.3.1 Cornell-Lossless-JPEG CPAL-1.0 CPL-1.0 \
CPOL-1.02 Cronyx Crossword CryptoSwift CrystalStacker CUA-OPL-1.0 Cube curl cve-tou D-FSL-1.0 \
DEC-3-Clause diffmark DL-DE-BY-2.0 DL-DE-ZERO-2.0 DOC DocBook-DTD DocBook-Schema \
DocBook-Stylesheet DocBook-XML Dotseqn DRL-1.0 DRL-1.1 DSDP dtoa dvipdfm ECL-1.0 ECL-2.0 \
eCos-2.0 EFL-1.0 EFL-2.0 eGenix Elastic-2.0 Entessa EPICS EPL-1.0 EPL-2.0 ErlPL-1.1 \
ESA-PL-permissive-2.4 ESA-PL-strong-copyleft-2.4 ESA-PL-weak-copyleft-2.4 etalab-2.0 EUDatagrid \
EUPL-1.0 EUPL-1.1 EUPL-1.2 Eurosym Fair FBM FDK-AAC Ferguson-Twofish Frameworx-1.0 FreeBSD-DOC \
FreeImage FSFAP FSFAP-no-warranty-disclaimer FSFUL FSFULLR FSFULLRSD FSFULLRWD FSL-1.1-ALv2 \
FSL-1.1-MIT FTL Furuseth fwlw Game-Programming-Gems GCR-docs GD generic-xts GFDL-1.1 \
GFDL-1.1-invariants-only GFDL-1.1-invariants-or-later GFDL-1.1-no-invariants-only \
GFDL-1.1-no-invariants-or-later GFDL-1.1-only GFDL-1.1-or-later GFDL-1.2 \
GFDL-1.2-invariants-only GFDL-1.2-invariants-or-later GFDL-1.2-no-invariants-only \
GFDL-1.2-no-invariants-or-later GFDL-1.2-only GFDL-1.2-or-later GFDL-1.3 \
GFDL-1.3-invariants-only GFDL-1.3-invariants-or-later GFDL-1.3-no-invariants-only \
GFDL-1.3-no-invariants-or-later GFDL-1.3-only GFDL-1.3-or-later Giftware GL2PS Glide Glulxe \
GLWTPL gnuplot GPL-1.0 GPL-1.0+ GPL-1.0-only GPL-1.0-or-later GPL-2.0 GPL-2.0+ GPL-2.0-only \
GPL-2.0-or-later GPL-2.0-with-autoconf-exception GPL-2.0-with-bison-exception \
GPL-2.0-with-classpath-exception GPL-2.0-with-font-exception GPL-2.0-with-GCC-exception GPL-3.0 \
GPL-3.0+ GPL-3.0-only GPL-3.0-or-later GPL-3.0-with-autoconf-exception \
GPL-3.0-with-GCC-exception Graphics-Gems gSOAP-1.3b gtkbook Gutmann HaskellReport HDF5 hdparm \
HIDAPI Hippocratic-2.1 HP-1986 HP-1989 HPND HPND-DEC HPND-doc HPND-doc-sell HPND-export-US \
HPND-export-US-acknowledgement HPND-export-US-modify HPND-export2-US HPND-Fenneberg-Livingston \
HPND-INRIA-IMAG HPND-Intel HPND-Kevlin-Henney HPND-Markus-Kuhn HPND-merchantability-variant \
HPND-MIT-disclaimer HPND-Netrek HPND-Pbmplus HPND-sell-MIT-disclaimer-xserver HPND-sell-regexpr \
HPND-sell-variant HPND-sell-variant-critical-systems HPND-sell-variant-MIT-disclaimer \
HPND-sell-variant-MIT-disclaimer-rev HPND-SMC HPND-UC HPND-UC-export-US HTMLTIDY \
hyphen-bulgarian IBM-pibs ICU IEC-Code-Components-EULA IJG IJG-short ImageMagick iMatix Imlib2 \
Info-ZIP Inner-Net-2.0 InnoSetup Intel Intel-ACPI Interbase-1.0 IPA IPL-1.0 ISC ISC-Veillard \
ISO-permission Jam JasPer-2.0 jove JPL-image JPNIC JSON Kastrup Kazlib Knuth-CTAN LAL-1.2 \
LAL-1.3 Latex2e Latex2e-translated-notice Leptonica LGPL-2.0 LGPL-2.0+ LGPL-2.0-only \
LGPL-2.0-or-later LGPL-2.1 LGPL-2.1+ LGPL-2.1-only LGPL-2.1-or-later LGPL-3.0 LGPL-3.0+ \
LGPL-3.0-only LGPL-3.0-or-later LGPLLR Libpng libpng-1.6.35 libpng-2.0 libselinux-1.0 libtiff \
libutil-David-Nugent LiLiQ-P-1.1 LiLiQ-R-1.1 LiLiQ-Rplus-1.1 Linux-man-pages-1-para \
Linux-man-pages-copyleft Linux-man-pages-copyleft-2-para Linux-man-pages-copyleft-var \
Linux-OpenIB LOOP LPD-document LPL-1.0 LPL-1.02 LPPL-1.0 LPPL-1.1 LPPL-1.2 LPPL-1.3a LPPL-1.3c \
lsof Lucida-Bitmap-Fonts LZMA-SDK-9.11-to-9.20 LZMA-SDK-9.22 Mackerras-3-Clause \
Mackerras-3-Clause-acknowledgment magaz mailprio MakeIndex man2html Martin-Birgmeier \
McPhee-slideshow metamail Minpack MIPS MirOS MIT MIT-0 MIT-advertising MIT-Click MIT-CMU \
MIT-enna MIT-feh MIT-Festival MIT-Khronos-old MIT-Modern-Variant MIT-open-group MIT-STK \
MIT-testregex MIT-Wu MITNFA MMIXware MMPL-1.0.1 Motosoto MPEG-SSG mpi-permissive mpich2 MPL-1.0 \
MPL-1.1 MPL-2.0 MPL-2.0-no-copyleft-exception mplus MS-LPL MS-PL MS-RL MTLL MulanPSL-1.0 \
MulanPSL-2.0 Multics Mup NAIST-2003 NASA-1.3 Naumen NBPL-1.0 NCBI-PD NCGL-UK-2.0 NCL NCSA \
Net-SNMP NetCDF Newsletr NGPL ngrep NICTA-1.0 NIST-PD NIST-PD-fallback NIST-PD-TNT NIST-Software \
NLOD-1.0 NLOD-2.0 NLPL Nokia NOSL Noweb NPL-1.0 NPL-1.1 NPOSL-3.0 NRL NTIA-PD NTP NTP-0 Nunit \
O-UDA-1.0 OAR OCCT-PL OCLC-2.0 ODbL-1.0 ODC-By-1.0 OFFIS OFL-1.0 OFL-1.0-no-RFN OFL-1.0-RFN \
OFL-1.1 OFL-1.1-no-RFN OFL-1.1-RFN OGC-1.0 OGDL-Taiwan-1.0 OGL-Canada-2.0 OGL-UK-1.0 OGL-UK-2.0 \
OGL-UK-3.0 OGTSL OLDAP-1.1 OLDAP-1.2 OLDAP-1.3 OLDAP-1.4 OLDAP-2.0 OLDAP-2.0.1 OLDAP-2.1 \
OLDAP-2.2 OLDAP-2.2.1 OLDAP-2.2.2 OLDAP-2.3 OLDAP-2.4 OLDAP-2.5 OLDAP-2.6 OLDAP-2.7 OLDAP-2.8 \
OLFL-1.3 OML OpenMDW-1.0 OpenPBS-2.3 OpenSSL OpenSSL-standalone OpenVision OPL-1.0 OPL-UK-3.0 \
OPUBL-1.0 OSC-1.0 OSET-PL-2.1 OSL-1.0 OSL-1.1 OSL-2.0 OSL-2.1 OSL-3.0 OSSP PADL \
ParaType-Free-Font-1.3 Parity-6.0.0 Parity-7.0.0 PDDL-1.0 PHP-3.0 PHP-3.01 Pixar pkgconf Plexus \
pnmstitch PolyForm-Noncommercial-1.0.0 PolyForm-Small-Business-1.0.0 PostgreSQL PPL PSF-2.0 \
psfrag psutils Python-2.0 Python-2.0.1 python-ldap Qhull QPL-1.0 QPL-1.0-INRIA-2004 radvd Rdisc \
RHeCos-1.1 RPL-1.1 RPL-1.5 RPSL-1.0 RSA-MD RSCPL Ruby Ruby-pty SAX-PD SAX-PD-2.0 Saxpath SCEA \
SchemeReport Sendmail Sendmail-8.23 Sendmail-Open-Source-1.1 SGI-B-1.0 SGI-B-1.1 SGI-B-2.0 \
SGI-OpenGL SGMLUG-PM SGP4 SHL-0.5 SHL-0.51 SimPL-2.0 SISSL SISSL-1.2 SL Sleepycat SMAIL-GPL \
SMLNJ SMPPL SNIA snprintf SOFA softSurfer Soundex Spencer-86 Spencer-94 Spencer-99 SPL-1.0 \
ssh-keyscan SSH-OpenSSH SSH-short SSLeay-standalone SSPL-1.0 StandardML-NJ SugarCRM-1.1.3 \
SUL-1.0 Sun-PPP Sun-PPP-2000 SunPro SWL swrule Symlinks TAPR-OHL-1.0 TCL TCP-wrappers TekHVC \
TermReadKey TGPPL-1.0 ThirdEye threeparttable TMate TORQUE-1.1 TOSL TPDL TPL-1.0 TrustedQSL TTWL \
TTYP0 TU-Berlin-1.0 TU-Berlin-2.0 Ubuntu-font-1.0 UCAR UCL-1.0 ulem UMich-Merit Unicode-3.0 \
Unicode-DFS-2015 Unicode-DFS-2016 Unicode-TOU UnixCrypt Unlicense Unlicense-libtelnet \
Unlicense-libwhirlpool UnRAR UPL-1.0 URT-RLE Vim Vixie-Cron VOSTROM VSL-1.0 W3C W3C-19980720 \
W3C-20150513 w3m Watcom-1.0 Widget-Workshop WordNet Wsuipa WTFNMFPL WTFPL wwl wxWindows X11 \
X11-distribute-modifications-variant X11-no-permit-persons X11-swapped Xdebug-1.03 Xerox Xfig \
XFree86-1.1 xinetd xkeyboard-config-Zinoviev xlock Xnet xpp XSkat xzoom YPL-1.0 YPL-1.1 Zed \
Zeeff Zend-2.0 Zimbra-1.3 Zimbra-1.4 Zlib zlib-acknowledgement ZPL-1.1 ZPL-2.0 ZPL-2.1 \
389-exception Asterisk-exception Asterisk-linking-protocols-exception Autoconf-exception-2.0 \
Autoconf-exception-3.0 Autoconf-exception-generic Autoconf-exception-generic-3.0 \
Autoconf-exception-macro Bison-exception-1.24 Bison-exception-2.2 Bootloader-exception \
CGAL-linking-exception Classpath-exception-2.0 Classpath-exception-2.0-short CLISP-exception-2.0 \
cryptsetup-OpenSSL-exception Digia-Qt-LGPL-exception-1.1 DigiRule-FOSS-exception \
eCos-exception-2.0 erlang-otp-linking-exception Fawkes-Runtime-exception FLTK-exception \
fmt-exception Font-exception-2.0 freertos-exception-2.0 GCC-exception-2.0 GCC-exception-2.0-note \
GCC-exception-3.1 Gmsh-exception GNAT-exception GNOME-examples-exception GNU-compiler-exception \
gnu-javamail-exception GPL-3.0-389-ds-base-exception GPL-3.0-interface-exception \
GPL-3.0-linking-exception GPL-3.0-linking-source-exception GPL-CC-1.0 GStreamer-exception-2005 \
GStreamer-exception-2008 harbour-exception i2p-gpl-java-exception Independent-modules-exception \
KiCad-libraries-exception kvirc-openssl-exception LGPL-3.0-linking-exception \
libpri-OpenH323-exception Libtool-exception Linux-syscall-note LLGPL LLVM-exception \
LZMA-exception mif-exception mxml-exception Nokia-Qt-exception-1.1 OCaml-LGPL-linking-exception \
OCCT-exception-1.0 OpenJDK-assembly-exception-1.0 openvpn-openssl-exception PCRE2-exception \
polyparse-exception PS-or-PDF-font-exception-20170817 QPL-1.0-INRIA-2004-exception \
Qt-GPL-exception-1.0 Qt-LGPL-exception-1.1 Qwt-exception-1.0 romic-exception \
RRDtool-FLOSS-exception-2.0 rsync-linking-exception SANE-exception SHL-2.0 SHL-2.1 \
Simple-Library-Usage-exception sqlitestudio-OpenSSL-exception stunnel-exception SWI-exception \
Swift-exception Texinfo-exception u-boot-exception-2.0 UBDL-exception \
Universal-FOSS-exception-1.0 vsftpd-openssl-exception WxWindows-exception-3.1 \
x11vnc-openssl-exception";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_are_matched_case_insensitively() {
        assert_eq!(license_id("mit"), Some("MIT"));
        assert_eq!(license_id("apache-2.0"), Some("Apache-2.0"));
        assert_eq!(license_id("Apache 2.0"), None);
        assert_eq!(license_id(""), None);
    }

    #[test]
    fn expressions_are_checked_and_canonicalized() {
        assert_eq!(license_expression("mit or Apache-2.0").as_deref(), Some("MIT OR Apache-2.0"));
        assert_eq!(
            license_expression("(MIT OR Apache-2.0)AND BSD-3-Clause").as_deref(),
            Some("(MIT OR Apache-2.0) AND BSD-3-Clause")
        );
        assert_eq!(
            license_expression("GPL-2.0-only WITH Classpath-exception-2.0").as_deref(),
            Some("GPL-2.0-only WITH Classpath-exception-2.0")
        );
        assert_eq!(license_expression("LGPL-2.1+").as_deref(), Some("LGPL-2.1+"));
        for bad in ["", "MIT OR", "(MIT", "MIT)", "MIT Apache-2.0", "LicenseRef-x", "GPL-2 or later", "WITH"]
        {
            assert_eq!(license_expression(bad), None, "{bad:?}");
        }
        let deep = format!("{}MIT{}", "(".repeat(100), ")".repeat(100));
        assert_eq!(license_expression(&deep), None);
    }
}
