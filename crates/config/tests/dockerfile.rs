//! Dockerfile scanning through the public API: every check on an input that
//! fires it and one that does not, the parser on tricky syntax (seen through
//! finding lines and warnings), a realistic multi-stage file, the
//! .dockerignore lookup, and hostile input.

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;

use rampart_config::{ConfigError, ConfigKind, Outcome, checks, scan};
use rampart_types::Severity;

/// A path that does not exist, so the .dockerignore check stays out.
const NOWHERE: &str = "/nonexistent/rampart-test/Dockerfile";

fn scan_str(src: &str) -> Outcome {
    scan(ConfigKind::Dockerfile, Path::new(NOWHERE), "Dockerfile", src.as_bytes()).expect("scans")
}

/// `(start, end)` of every finding with `id`.
fn lines(out: &Outcome, id: &str) -> Vec<(u32, u32)> {
    out.failures
        .iter()
        .filter(|f| f.id == id)
        .map(|f| (f.cause_metadata.start_line, f.cause_metadata.end_line))
        .collect()
}

fn ids(out: &Outcome) -> BTreeSet<&str> {
    out.failures.iter().map(|f| f.id.as_str()).collect()
}

fn message<'o>(out: &'o Outcome, id: &str) -> &'o str {
    out.failures.iter().find(|f| f.id == id).map_or("", |f| f.message.as_str())
}

/// `(id, input that fires it, lines of the finding, input that does not)`.
const CASES: &[(&str, &str, (u32, u32), &str)] = &[
    ("DS001", "FROM alpine\n", (1, 1), "FROM alpine:3.20\n"),
    ("DS002", "FROM alpine:3.20\nUSER app\nUSER root\n", (3, 3), "FROM alpine:3.20\nUSER 1000:1000\n"),
    ("DS004", "FROM a:1\nEXPOSE 80 22/tcp\n", (2, 2), "FROM a:1\nEXPOSE 80 2222\n"),
    ("DS005", "FROM a:1\nADD app.py /app/\n", (2, 2), "FROM a:1\nADD rootfs.tar.gz /\n"),
    (
        "DS006",
        "FROM a:1 AS build\nCOPY --from=build /x /y\n",
        (2, 2),
        "FROM a:1 AS build\nFROM b:1\nCOPY --from=build /x /y\n",
    ),
    ("DS007", "FROM a:1\nENTRYPOINT [\"a\"]\nENTRYPOINT [\"b\"]\n", (3, 3), "FROM a:1\nENTRYPOINT [\"a\"]\n"),
    ("DS008", "FROM a:1\nEXPOSE 70000\n", (2, 2), "FROM a:1\nEXPOSE 65535/udp\n"),
    ("DS009", "FROM a:1\nWORKDIR app\n", (2, 2), "FROM a:1\nWORKDIR /app\n"),
    ("DS010", "FROM a:1\nRUN sudo make install\n", (2, 2), "FROM a:1\nRUN make install\n"),
    ("DS011", "FROM a:1\nCOPY a b /dst\n", (2, 2), "FROM a:1\nCOPY a b /dst/\n"),
    ("DS012", "FROM a:1 AS x\nFROM b:1 AS x\n", (2, 2), "FROM a:1 AS x\nFROM b:1 AS y\n"),
    ("DS013", "FROM a:1\nRUN cd /src && make\n", (2, 2), "FROM a:1\nWORKDIR /src\nRUN make\n"),
    (
        "DS014",
        "FROM a:1\nRUN curl -o x https://a\nRUN wget https://b\n",
        (3, 3),
        "FROM a:1\nRUN curl -o x https://a\n",
    ),
    (
        "DS015",
        "FROM centos:7\nRUN yum install -y httpd\n",
        (2, 2),
        "FROM centos:7\nRUN yum install -y httpd && yum clean all\n",
    ),
    (
        "DS016",
        "FROM a:1\nCMD [\"a\"]\nCMD [\"b\"]\n",
        (3, 3),
        "FROM a:1\nCMD [\"a\"]\nFROM b:1\nCMD [\"b\"]\n",
    ),
    (
        "DS017",
        "FROM debian:12\nRUN apt-get update\n",
        (2, 2),
        "FROM debian:12\nRUN apt-get update && apt-get install -y x\n",
    ),
    (
        "DS018",
        "FROM a:1\nCOPY --from=later /x /y\nFROM b:1 AS later\n",
        (2, 2),
        "FROM b:1 AS later\nFROM a:1\nCOPY --from=later /x /y\n",
    ),
    (
        "DS019",
        "FROM fedora:40\nRUN dnf install -y x\n",
        (2, 2),
        "FROM fedora:40\nRUN dnf install -y x && dnf clean all\n",
    ),
    (
        "DS020",
        "FROM suse:15\nRUN zypper -n install x\n",
        (2, 2),
        "FROM suse:15\nRUN zypper -n install x && zypper clean -a\n",
    ),
    (
        "DS021",
        "FROM debian:12\nRUN apt-get install curl\n",
        (2, 2),
        "FROM debian:12\nRUN apt-get -qq install curl\n",
    ),
    (
        "DS022",
        "FROM a:1\nMAINTAINER me@example.com\n",
        (2, 2),
        "FROM a:1\nLABEL org.opencontainers.image.authors=me\n",
    ),
    (
        "DS023",
        "FROM a:1\nHEALTHCHECK NONE\nHEALTHCHECK CMD true\n",
        (3, 3),
        "FROM a:1\nHEALTHCHECK CMD true\n",
    ),
    (
        "DS024",
        "FROM debian:12\nRUN apt-get dist-upgrade -y\n",
        (2, 2),
        "FROM debian:12\nRUN apt-get install -y x\n",
    ),
    (
        "DS025",
        "FROM alpine:3.20\nRUN apk add curl\n",
        (2, 2),
        "FROM alpine:3.20\nRUN apk add --no-cache curl\n",
    ),
    ("DS026", "FROM a:1 AS b\nRUN x\nFROM b\n", (3, 3), "FROM a:1 AS b\nHEALTHCHECK CMD true\nFROM b\n"),
    (
        "DS027",
        "FROM ubi:9\nRUN microdnf install -y x\n",
        (2, 2),
        "FROM ubi:9\nRUN microdnf install x && microdnf clean all\n",
    ),
    (
        "DS029",
        "FROM debian:12\nRUN apt-get install -y x\n",
        (2, 2),
        "FROM debian:12\nRUN apt-get install -y -o APT::Install-Recommends=false x\n",
    ),
    ("DS030", "FROM a:1\nWORKDIR /proc/app\n", (2, 2), "FROM a:1\nWORKDIR /process\n"),
    (
        "DS031",
        "FROM a:1\nENV DB_PASSWORD=hunter2\n",
        (2, 2),
        "FROM a:1\nARG TOKEN\nENV DB_PASSWORD_FILE=/run/secrets/db API_KEY=$TOKEN\n\
         RUN --mount=type=secret,id=aws aws configure set aws_secret_access_key \"$(cat /run/secrets/aws)\"\n",
    ),
    (
        "DS032",
        "FROM a:1\nRUN curl -fsSL https://x/a.tgz | tar xz\n",
        (2, 2),
        "FROM a:1\nRUN set -eo pipefail; curl -fsSL https://x/a.tgz | tar xz\n",
    ),
    (
        "RPT-DS-001",
        "FROM alpine:3.20\n",
        (1, 1),
        "FROM alpine:3.20@sha256:0000000000000000000000000000000000000000000000000000000000000000\n",
    ),
    (
        "RPT-DS-002",
        "FROM node:20\nWORKDIR /app\nCOPY . .\nRUN npm ci\n",
        (3, 3),
        "FROM node:20\nWORKDIR /app\nCOPY package.json package-lock.json ./\nRUN npm ci\nCOPY . .\nRUN npm run build\n",
    ),
    (
        "RPT-DS-003",
        "FROM debian:12\nRUN apt-get install -y curl netcat-openbsd\n",
        (2, 2),
        "FROM debian:12 AS fetch\nRUN apt-get install -y curl\nFROM debian:12\nCOPY --from=fetch /x /x\n",
    ),
    (
        "RPT-DS-004",
        "FROM debian:12\nRUN apt-get update && apt-get install -y x\n",
        (2, 2),
        "FROM debian:12\nRUN apt-get update && apt-get install -y x && rm -rf /var/lib/apt/lists/*\n",
    ),
    (
        "RPT-DS-005",
        "FROM python:3.12\nRUN pip install flask\n",
        (2, 2),
        "FROM python:3.12\nRUN pip install --no-cache-dir flask\n",
    ),
    (
        "RPT-DS-006",
        "FROM node:20\nRUN npm ci\n",
        (2, 2),
        "FROM node:20\nRUN npm ci && npm cache clean --force\n",
    ),
    (
        "RPT-DS-008",
        "FROM a:1\nADD https://example.com/x.tgz /x\n",
        (2, 2),
        "FROM a:1\nADD --checksum=sha256:00 https://example.com/x.tgz /x\n",
    ),
    (
        "RPT-DS-009",
        "FROM a:1\nRUN curl -fsSL https://x/install.sh | sh\n",
        (2, 2),
        "FROM a:1\nRUN curl -fsSLo /tmp/i.sh https://x/install.sh && sha256sum -c sums && sh /tmp/i.sh\n",
    ),
    ("RPT-DS-010", "FROM a:1\nCMD python app.py\n", (2, 2), "FROM a:1\nCMD [\"python\", \"app.py\"]\n"),
    (
        "RPT-DS-011",
        "FROM a:1\nRUN chmod -R 777 /app\n",
        (2, 2),
        "FROM a:1\nRUN chmod 1777 /tmp && chmod -R 755 /app\n",
    ),
    (
        "RPT-DS-012",
        "FROM centos:7\nRUN yum install httpd\n",
        (2, 2),
        "FROM centos:7\nRUN yum -y install httpd\n",
    ),
    (
        "RPT-DS-013",
        "FROM debian:12\nRUN apt install -y x\n",
        (2, 2),
        "FROM debian:12\nRUN apt-get install -y x\n",
    ),
    (
        "RPT-DS-014",
        "FROM a:1\nCOPY id_rsa /root/.ssh/id_rsa\n",
        (2, 2),
        "FROM a:1\nCOPY id_rsa.pub /etc/keys/\n",
    ),
    (
        "RPT-DS-015",
        "FROM a:1\nRUN git clone https://bob:hunter2@git.example.com/r.git\n",
        (2, 2),
        "FROM a:1\nRUN git clone https://bob:${TOKEN}@git.example.com/r.git\n",
    ),
    (
        "RPT-DS-016",
        "FROM a:1\nRUN curl -fsSLk https://x -o y\n",
        (2, 2),
        "FROM a:1\nRUN curl -fsSLo k https://x\n",
    ),
    ("RPT-DS-017", "FROM a:1\nRUN --security=insecure make\n", (2, 2), "FROM a:1\nRUN --network=none make\n"),
];

#[test]
fn every_check_fires_and_passes() {
    for (id, fires, at, passes) in CASES {
        let out = scan_str(fires);
        assert!(lines(&out, id).contains(at), "{id} should fire at {at:?} on {fires:?}: {:#?}", out.failures);
        assert!(!message(&out, id).is_empty());
        let out = scan_str(passes);
        assert!(lines(&out, id).is_empty(), "{id} should pass on {passes:?}: {:#?}", out.failures);
    }
}

#[test]
fn the_cases_cover_the_catalogue() {
    let covered: BTreeSet<&str> = CASES.iter().map(|c| c.0).chain(["RPT-DS-007"]).collect();
    let all: BTreeSet<&str> =
        checks().into_iter().filter(|c| c.kind == ConfigKind::Dockerfile).map(|c| c.id).collect();
    assert_eq!(covered, all);
}

#[test]
fn findings_have_trivys_shape() {
    let out = scan_str("FROM golang:1.22 AS build\nRUN sudo go build\nFROM alpine\n");
    let sudo = out.failures.iter().find(|f| f.id == "DS010").expect("DS010");
    assert_eq!(sudo.kind, "Dockerfile Security Check");
    assert_eq!(sudo.status, "FAIL");
    assert_eq!(sudo.severity, Severity::Critical);
    assert_eq!(sudo.primary_url, "https://avd.aquasec.com/misconfig/ds010");
    assert_eq!(sudo.references, std::slice::from_ref(&sudo.primary_url));
    assert_eq!(sudo.cause_metadata.provider, "Dockerfile");
    assert_eq!(sudo.cause_metadata.resource, "build", "the stage name");
    assert!(sudo.message.contains("sudo go build"), "{}", sudo.message);
    let digest = out.failures.iter().find(|f| f.id == "RPT-DS-001").expect("digest");
    assert!(digest.primary_url.is_empty() && digest.references.is_empty());
    let starts: Vec<u32> = out.failures.iter().map(|f| f.cause_metadata.start_line).collect();
    assert!(starts.windows(2).all(|w| w[0] <= w[1]), "sorted by line: {starts:?}");
}

#[test]
fn heredocs_span_their_bodies() {
    let src =
        "FROM debian:12\nRUN <<EOF\nset -e\napt-get update\nEOF\nRUN <<-SCRIPT bash\n\tsudo true\n\tSCRIPT\n";
    let out = scan_str(src);
    assert_eq!(lines(&out, "DS017"), [(2, 5)], "the heredoc body is the script");
    assert_eq!(lines(&out, "DS010"), [(6, 8)]);

    // A heredoc fed to another program is data, and COPY heredocs are file content.
    let src = "FROM a:1\nRUN python3 <<EOF\nimport os; os.system('sudo x')\nEOF\nCOPY <<EOF /etc/motd\nsudo rm -rf /\nEOF\n";
    let out = scan_str(src);
    assert!(lines(&out, "DS010").is_empty(), "{:#?}", out.failures);
    assert!(out.warnings.is_empty(), "{:?}", out.warnings);

    // Several heredocs on one line, quoted delimiters.
    let src = "FROM a:1\nCOPY <<one <<'two' /dst/\nx\none\n$y\ntwo\nRUN sudo true\n";
    let out = scan_str(src);
    assert_eq!(lines(&out, "DS010"), [(7, 7)]);
}

#[test]
fn escape_directive_and_continuations() {
    let src = "# escape=`\nFROM mcr.microsoft.com/windows/servercore:ltsc2022\nRUN sudo dir C:\\ `\n    && echo done\nWORKDIR C:\\app\n";
    let out = scan_str(src);
    assert_eq!(lines(&out, "DS010"), [(3, 4)]);
    assert!(lines(&out, "DS009").is_empty(), "C:\\app is absolute");

    let src = "FROM debian:12\nRUN apt-get update \\\n# a comment inside\n\n    && apt-get install curl \\\n    && true\n";
    let out = scan_str(src);
    assert_eq!(lines(&out, "DS021"), [(2, 6)]);

    // Once past the top of the file, `# escape=` is a comment.
    let src = "FROM a:1\n# escape=`\nRUN sudo a \\\n  b\n";
    assert_eq!(lines(&scan_str(src), "DS010"), [(3, 4)]);
}

#[test]
fn exec_and_shell_forms() {
    let out = scan_str("FROM a:1\nCMD [\"app\"]\nENTRYPOINT /bin/app --serve\nRUN [\"sudo\", \"make\"]\n");
    assert_eq!(lines(&out, "RPT-DS-010"), [(3, 3)]);
    assert_eq!(lines(&out, "DS010"), [(4, 4)], "exec form RUN is analysed too");
    let out = scan_str("FROM a:1\nRUN [\"/bin/sh\", \"-c\", \"cd /x && make\"]\nCMD exec app\n");
    assert_eq!(lines(&out, "DS013"), [(2, 2)], "sh -c is opened up");
    assert!(lines(&out, "RPT-DS-010").is_empty(), "`exec` makes the app PID 1");

    // A Windows shell is not read as POSIX.
    let out = scan_str("FROM a:1\nSHELL [\"pwsh\", \"-Command\"]\nRUN cd C:\\ ; sudo x\n");
    assert!(lines(&out, "DS013").is_empty() && lines(&out, "DS010").is_empty());
}

#[test]
fn arg_and_env_substitution() {
    let out = scan_str("ARG BASE=alpine:latest\nFROM ${BASE}\n");
    assert_eq!(lines(&out, "DS001"), [(2, 2)]);
    assert!(message(&out, "DS001").contains("alpine:latest"));

    let out = scan_str("ARG TAG\nFROM alpine:${TAG}\n");
    assert!(
        lines(&out, "DS001").is_empty() && lines(&out, "RPT-DS-001").is_empty(),
        "the tag comes at build time"
    );

    let out = scan_str("ARG TAG=3.20\nFROM alpine:${TAG:-latest}\nARG U=root\nUSER $U\n");
    assert!(lines(&out, "DS001").is_empty());
    assert_eq!(lines(&out, "DS002"), [(4, 4)]);

    let out = scan_str("FROM a:1\nENV DIR=app\nWORKDIR ${DIR}\nWORKDIR ${MISSING}/x\n");
    assert_eq!(lines(&out, "DS009"), [(3, 3)], "an unset variable is not judged");
    assert!(message(&out, "DS009").contains("`app`"));

    let out = scan_str("FROM a:1\nENV PORT=22\nEXPOSE ${PORT:+$PORT}\n");
    assert_eq!(lines(&out, "DS004"), [(3, 3)]);

    // A global ARG is seen in a stage only when redeclared.
    let out = scan_str("ARG WD=/srv\nFROM a:1\nWORKDIR $WD/x\nARG WD\nWORKDIR $WD\n");
    assert!(lines(&out, "DS009").is_empty());
    let out = scan_str("ARG WD=srv\nFROM a:1\nARG WD\nWORKDIR $WD\n");
    assert_eq!(lines(&out, "DS009"), [(4, 4)]);
}

#[test]
fn stages() {
    let src = concat!(
        "FROM golang:1.22 AS Build\n",
        "RUN go build -o /app\n",
        "FROM build AS test\n",
        "USER app\n",
        "FROM scratch\n",
        "COPY --from=0 /app /app\n",
        "COPY --from=BUILD /app /app2\n",
        "COPY --from=busybox:1.36 /bin/sh /bin/sh\n",
        "FROM test\n",
    );
    let out = scan_str(src);
    assert!(lines(&out, "DS001").is_empty(), "scratch and stage names have no tag: {:#?}", out.failures);
    assert_eq!(lines(&out, "RPT-DS-001"), [(1, 1)]);
    assert!(lines(&out, "DS006").is_empty() && lines(&out, "DS018").is_empty());
    assert!(lines(&out, "DS002").is_empty(), "USER is inherited from the `test` stage");

    let out = scan_str(
        "FROM a:1 AS one\nCOPY --from=1 /x /y\nFROM b:1\nCOPY --from=1 /x /y\nCOPY --from=one /x /y\n",
    );
    assert_eq!(lines(&out, "DS018"), [(2, 2)]);
    assert_eq!(lines(&out, "DS006"), [(4, 4)]);

    // The last stage decides DS002 and DS026, reported on its FROM.
    let out = scan_str("FROM a:1 AS build\nUSER app\nHEALTHCHECK CMD true\nFROM b:1\nRUN true\n");
    assert_eq!(lines(&out, "DS002"), [(4, 4)]);
    assert_eq!(lines(&out, "DS026"), [(4, 4)]);
    let out = scan_str("FROM gcr.io/distroless/static:nonroot\n");
    assert!(lines(&out, "DS002").is_empty());
}

#[test]
fn package_manager_details() {
    // Tools installed and removed in the same image, or through an apk virtual group.
    let out = scan_str(concat!(
        "FROM alpine:3.20\n",
        "RUN apk add --no-cache --virtual .fetch curl && curl -o /x https://x && apk del .fetch\n",
        "RUN apk add --no-cache wget\n",
        "RUN apk del wget\n",
        "RUN apk add --no-cache socat\n",
    ));
    assert_eq!(lines(&out, "RPT-DS-003"), [(5, 5)]);
    assert!(message(&out, "RPT-DS-003").contains("socat"));

    // Cache mounts keep caches out of the layer.
    let out = scan_str(concat!(
        "FROM debian:12\n",
        "RUN --mount=type=cache,target=/var/lib/apt --mount=type=cache,target=/var/cache/apt \\\n",
        "    apt-get update && apt-get install -y --no-install-recommends gcc\n",
        "RUN --mount=type=cache,target=/root/.cache/pip pip install -r requirements.txt\n",
        "ENV PIP_NO_CACHE_DIR=1\n",
        "RUN python -m pip install flask\n",
        "RUN --mount=type=cache,target=/root/.npm npm ci\n",
    ));
    for id in ["RPT-DS-004", "RPT-DS-005", "RPT-DS-006"] {
        assert!(lines(&out, id).is_empty(), "{id}: {:#?}", out.failures);
    }

    // An apt.conf setting counts as --no-install-recommends for later RUNs.
    let out = scan_str(concat!(
        "FROM debian:12 AS base\n",
        "RUN echo 'APT::Install-Recommends \"false\";' > /etc/apt/apt.conf.d/99norecommends\n",
        "FROM base\n",
        "RUN apt-get install -y curl\n",
    ));
    assert!(lines(&out, "DS029").is_empty());

    // sudo, env and assignments in front of the package manager are seen through.
    let out = scan_str("FROM debian:12\nRUN DEBIAN_FRONTEND=noninteractive sudo -E apt-get install x\n");
    assert_eq!(lines(&out, "DS021"), [(2, 2)]);
    assert_eq!(lines(&out, "DS010"), [(2, 2)]);
}

#[test]
fn secrets_and_secret_mounts() {
    let out = scan_str(concat!(
        "ARG GITHUB_TOKEN=ghp_literal\n",
        "FROM a:1\n",
        "ENV apiKey=\"${KEY:-default-key}\" LOG_LEVEL=info\n",
        "RUN docker login -u me -p s3cret registry.example.com\n",
        "RUN --mount=type=secret,id=reg docker login -u me -p \"$(cat /run/secrets/reg)\" registry.example.com\n",
        "ENV GPG_KEY=0123ABCD PASSWORD=\n",
    ));
    assert_eq!(lines(&out, "DS031"), [(1, 1), (3, 3), (4, 4)]);
    assert!(!out.failures.iter().any(|f| f.message.contains("ghp_literal")), "values are never shown");
}

#[test]
fn malformed_input_warns_and_goes_on() {
    let src = concat!(
        "FROM a:1\n",
        "FRM b\n",
        "CMD [\"a\", 'b']\n",
        "RUN --bogus true\n",
        "RUN <<EOF\n",
        "echo never closed\n",
        "USER root\n",
    );
    let out = scan_str(src);
    let warned: Vec<Option<u32>> = out.warnings.iter().map(|w| w.line).collect();
    assert_eq!(warned, [Some(2), Some(3), Some(4), Some(5), Some(6)], "{:?}", out.warnings);
    assert!(out.warnings.iter().all(|w| w.path == "Dockerfile" && !w.message.is_empty()));
    assert_eq!(lines(&out, "DS002"), [(7, 7)], "parsing went on after the unterminated heredoc");

    for (bytes, what) in [
        (&b""[..], "empty"),
        (b"\n \n", "blank"),
        (b"\x7fELF\0\0\x01", "binary"),
        (b"# just a comment\n", "no instructions"),
    ] {
        match scan(ConfigKind::Dockerfile, Path::new(NOWHERE), "Dockerfile", bytes) {
            Err(ConfigError::Malformed { path, .. }) => assert_eq!(path, "Dockerfile", "{what}"),
            Ok(out) => panic!("{what}: {out:?}"),
        }
    }
}

/// Every check but the digest pin passes on a careful multi-stage build.
#[test]
fn realistic_multi_stage_dockerfile() {
    let src = r#"# syntax=docker/dockerfile:1.7
ARG GO_VERSION=1.22

FROM golang:${GO_VERSION}-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/root/go/pkg/mod \
    go mod download
COPY . .
RUN --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 go build -trimpath -o /out/server ./cmd/server

FROM node:20-bookworm-slim AS web
WORKDIR /web
COPY web/package.json web/package-lock.json ./
RUN --mount=type=secret,id=npmrc,target=/root/.npmrc \
    npm ci && npm cache clean --force
COPY web/ ./
RUN npm run build

FROM debian:12-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates tzdata \
 && rm -rf /var/lib/apt/lists/*
RUN useradd --system --uid 10001 app
COPY --from=build /out/server /usr/local/bin/server
COPY --from=web /web/dist /srv/static/
USER 10001:10001
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=3s CMD ["/usr/local/bin/server", "healthcheck"]
ENTRYPOINT ["/usr/local/bin/server"]
CMD ["--listen", ":8080"]
"#;
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("Dockerfile");
    fs::write(&path, src).expect("write");
    fs::write(dir.path().join(".dockerignore"), ".git\n.env\n").expect("write");
    let out = scan(ConfigKind::Dockerfile, &path, "Dockerfile", src.as_bytes()).expect("scans");
    assert_eq!(ids(&out), BTreeSet::from(["RPT-DS-001"]), "{:#?}", out.failures);
    assert_eq!(lines(&out, "RPT-DS-001"), [(4, 4), (13, 13), (21, 21)]);
    assert!(out.warnings.is_empty(), "{:?}", out.warnings);
    let total = checks().into_iter().filter(|c| c.kind == ConfigKind::Dockerfile).count();
    assert_eq!(out.successes as usize, total - 1);
}

#[test]
fn dockerignore_beside_the_dockerfile() {
    let dir = tempfile::tempdir().expect("tempdir");
    let src = "FROM a:1\nWORKDIR /app\nCOPY . .\n";
    let run = |name: &str| {
        let path = dir.path().join(name);
        fs::write(&path, src).expect("write");
        scan(ConfigKind::Dockerfile, &path, name, src.as_bytes()).expect("scans")
    };
    let out = run("Dockerfile");
    assert_eq!(lines(&out, "RPT-DS-007"), [(3, 3)]);

    fs::write(dir.path().join("api.Dockerfile.dockerignore"), "*\n").expect("write");
    assert!(lines(&run("api.Dockerfile"), "RPT-DS-007").is_empty(), "a per-Dockerfile ignore file counts");
    assert_eq!(lines(&run("Dockerfile"), "RPT-DS-007"), [(3, 3)], "but only for its own Dockerfile");

    fs::write(dir.path().join(".dockerignore"), ".git\n").expect("write");
    assert!(lines(&run("Dockerfile"), "RPT-DS-007").is_empty());

    // Copying named files needs no ignore file.
    let path = dir.path().join("other").join("Dockerfile");
    fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    let src = "FROM a:1\nCOPY app /app\n";
    fs::write(&path, src).expect("write");
    let out = scan(ConfigKind::Dockerfile, &path, "other/Dockerfile", src.as_bytes()).expect("scans");
    assert!(lines(&out, "RPT-DS-007").is_empty());
}

/// Scans hostile input; the caller asserts the outcome, and a hang or a
/// panic fails the test (no wall-clock limit: CI machines vary).
fn timed(what: &str, content: &[u8]) -> Result<Outcome, ConfigError> {
    let result = scan(ConfigKind::Dockerfile, Path::new(NOWHERE), "Dockerfile", content);
    if let Ok(outcome) = &result {
        // 200 warnings, then one saying the rest were dropped.
        assert!(outcome.warnings.len() <= 201, "{what}: {} warnings", outcome.warnings.len());
    }
    result
}

#[test]
fn hostile_input_is_bounded() {
    const MB: usize = 1 << 20;
    let backslashes = vec![b'\\'; 10 * MB];
    assert!(timed("10 MB of backslashes", &backslashes).is_err(), "no instruction in it");

    let lines = "\\\n".repeat(5 * MB);
    assert!(timed("5M continuation lines", lines.as_bytes()).is_err());

    let run = format!("FROM a:1\nRUN {}\n", "x \\\n".repeat(2 * MB));
    assert!(timed("one huge RUN", run.as_bytes()).is_ok());

    let heredocs = format!("FROM a:1\n{}", "RUN <<EOF cat\n".repeat(150_000));
    let out = timed("unterminated heredocs", heredocs.as_bytes()).expect("scans");
    assert!(out.warnings.len() <= 201, "warnings are capped: {}", out.warnings.len());

    let names = (0..100_000).map(|i| format!("RUN <<E{i}\n")).collect::<String>();
    timed("distinct unterminated heredocs", format!("FROM a:1\n{names}").as_bytes()).expect("scans");

    let nested = format!("FROM a:1\nENV A={}{}\n", "${X:-".repeat(MB), "}".repeat(MB));
    timed("deep substitution", nested.as_bytes()).expect("scans");

    let doubling = format!("FROM a:1\nENV A=abcdefgh\n{}", "ENV A=$A$A$A$A\n".repeat(50_000));
    timed("growing values", doubling.as_bytes()).expect("scans");

    let chain = (0..50_000)
        .map(|i| format!("FROM s{i} AS s{}\nENV V{i}=1\nCOPY --from=s{i} /a /b\n", i + 1))
        .collect::<String>();
    timed("a long chain of stages", format!("FROM a:1 AS s0\n{chain}").as_bytes()).expect("scans");

    let tools = "RUN apk add --virtual g curl\n".repeat(50_000) + &"RUN apk del other\n".repeat(50_000);
    timed("many installs and removals", format!("FROM a:1\n{tools}").as_bytes()).expect("scans");

    let quotes = format!("FROM a:1\nRUN echo \"{}\n", "'\"$(".repeat(MB));
    timed("unbalanced quotes", quotes.as_bytes()).expect("scans");
}

#[test]
fn detect_by_name() {
    let table = [
        ("Dockerfile", Some(ConfigKind::Dockerfile)),
        ("build/Dockerfile.prod", Some(ConfigKind::Dockerfile)),
        ("api.dockerfile", Some(ConfigKind::Dockerfile)),
        ("Containerfile", Some(ConfigKind::Dockerfile)),
        ("dockerfile", Some(ConfigKind::Dockerfile)),
        ("Dockerfile.dockerignore", None),
        (".dockerignore", None),
        ("deploy/app.yaml", Some(ConfigKind::Kubernetes)),
        ("k8s/app.YML", Some(ConfigKind::Kubernetes)),
        ("package.json", Some(ConfigKind::Kubernetes)),
        ("main.go", None),
        ("Makefile", None),
    ];
    for (name, kind) in table {
        assert_eq!(ConfigKind::detect(Path::new(name)), kind, "{name}");
    }
}

#[test]
fn inline_comments_suppress_findings_of_the_next_instruction() {
    let src = "FROM alpine:3.20\nRUN apk add curl\n# rampart:ignore:DS002\nUSER root\n";
    let quiet = scan_str(src);
    assert!(!ids(&quiet).contains("DS002"), "{:?}", ids(&quiet));
    assert!(!ids(&scan_str(&src.replace("rampart:", "trivy:"))).contains("DS002"), "Trivy's marker too");
    // Another id, or a marker that is not directly above, suppresses nothing.
    assert!(ids(&scan_str(&src.replace("DS002", "DS001"))).contains("DS002"));
    assert!(
        ids(&scan_str(
            &src.replace("# rampart:ignore:DS002\nUSER root", "USER root\n# rampart:ignore:DS002")
        ))
        .contains("DS002")
    );
    // Findings about what is missing point at FROM: a comment above it covers them.
    let missing = "# rampart:ignore:DS026\nFROM alpine:3.20\nUSER app\n";
    assert!(!ids(&scan_str(missing)).contains("DS026"));
    assert!(ids(&scan_str(&missing.replace("DS026", "DS000"))).contains("DS026"));
}
