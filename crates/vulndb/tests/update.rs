//! `update` against a mirror served from 127.0.0.1 by the test itself.

mod common;

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Cursor, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use rampart_types::NoProgress;
use rampart_vulndb::{DB_FILE_NAME, Db, DbError, UpdateOptions, is_stale, update};

/// What the mirror answers for a path.
enum Reply {
    Zip(Vec<u8>),
    /// Announces the whole body but closes the connection half-way.
    CutShort(Vec<u8>),
}

/// Serves `routes` on an ephemeral 127.0.0.1 port; unknown paths get 404.
/// The thread lives until the test process ends.
fn serve(routes: HashMap<String, Reply>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let routes = Arc::new(routes);
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { continue };
            let routes = Arc::clone(&routes);
            std::thread::spawn(move || answer(stream, &routes));
        }
    });
    base
}

fn answer(mut stream: TcpStream, routes: &HashMap<String, Reply>) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut request_line = String::new();
    reader.read_line(&mut request_line).unwrap();
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header).unwrap() == 0 || header == "\r\n" {
            break;
        }
    }
    let path = request_line.split_whitespace().nth(1).unwrap_or("").to_string();
    let _ = match routes.get(&path) {
        Some(Reply::Zip(body)) => write!(
            stream,
            "HTTP/1.1 200 OK\r\nContent-Type: application/zip\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        )
        .and_then(|()| stream.write_all(body)),
        Some(Reply::CutShort(body)) => write!(
            stream,
            "HTTP/1.1 200 OK\r\nContent-Type: application/zip\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        )
        .and_then(|()| stream.write_all(&body[..body.len() / 2])),
        None => {
            stream.write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\nConnection: close\r\n\r\nnot found")
        }
    };
    let _ = stream.flush();
}

/// An OSV export made of records from ../shared/data/osv.
fn export(files: &[&str]) -> Vec<u8> {
    let osv = common::data_dir().join("osv");
    let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
    for f in files {
        let name = Path::new(f).file_name().unwrap().to_str().unwrap();
        zip.start_file(name, zip::write::SimpleFileOptions::default()).unwrap();
        zip.write_all(&std::fs::read(osv.join(f)).unwrap()).unwrap();
    }
    zip.finish().unwrap().into_inner()
}

fn opts(mirror: &str, ecosystems: &[&str]) -> UpdateOptions {
    UpdateOptions {
        mirror: mirror.to_string(),
        ecosystems: ecosystems.iter().map(|s| s.to_string()).collect(),
    }
}

fn routes() -> HashMap<String, Reply> {
    let go = export(&["Go/GO-2020-0001.json", "Go/GO-2021-0159.json", "Go/GO-2024-2442.json"]);
    let rust = export(&["crates.io/RUSTSEC-2019-0014.json"]);
    let k8s = export(&["Kubernetes/CVE-2017-1002101.json"]);
    HashMap::from([
        ("/Go/all.zip".to_string(), Reply::Zip(go.clone())),
        ("/crates.io/all.zip".to_string(), Reply::Zip(rust)),
        // Ecosystem names are URL-encoded as one path segment.
        ("/Red%20Hat/all.zip".to_string(), Reply::Zip(k8s)),
        ("/Truncated/all.zip".to_string(), Reply::CutShort(go)),
        ("/Garbage/all.zip".to_string(), Reply::Zip(b"<html>this is no zip</html>".to_vec())),
    ])
}

#[test]
fn update_builds_the_database_from_the_mirror() {
    let mirror = serve(routes());
    let cache = tempfile::tempdir().unwrap();
    let db_dir = cache.path().join("db");
    assert!(is_stale(&db_dir, Duration::from_secs(3600)));

    let summary = update(&opts(&mirror, &["Go", "crates.io", "Red Hat"]), &db_dir, &NoProgress).unwrap();
    assert_eq!(summary.advisories, 4, "GO-2024-2442 is withdrawn");
    assert_eq!(summary.withdrawn, 1);
    assert!(summary.warnings.is_empty(), "{:?}", summary.warnings);

    let db = Db::open(&db_dir).unwrap();
    assert!(
        db.affected("Go", "github.com/gin-gonic/gin")
            .unwrap()
            .iter()
            .any(|e| e.advisory_id == "GO-2020-0001")
    );
    assert!(db.affected("crates.io", "image").unwrap().iter().any(|e| e.advisory_id == "RUSTSEC-2019-0014"));
    assert!(
        db.affected("Kubernetes", "k8s.io/kubelet")
            .unwrap()
            .iter()
            .any(|e| e.advisory_id == "CVE-2017-1002101")
    );
    let origins: Vec<&str> = db.metadata().sources.iter().map(|s| s.origin.as_str()).collect();
    assert_eq!(
        origins,
        [
            format!("{mirror}/Go/all.zip"),
            format!("{mirror}/crates.io/all.zip"),
            format!("{mirror}/Red%20Hat/all.zip")
        ]
    );
    assert!(!is_stale(&db_dir, Duration::from_secs(3600)));
    assert_eq!(common::dir_entries(&db_dir), [DB_FILE_NAME], "downloads are removed");
}

#[test]
fn failed_updates_keep_the_previous_database() {
    let mirror = serve(routes());
    let cache = tempfile::tempdir().unwrap();
    let db_dir = cache.path().join("db");
    update(&opts(&mirror, &["crates.io"]), &db_dir, &NoProgress).unwrap();
    let before = Db::open(&db_dir).unwrap().metadata().clone();

    let check = |ecosystems: &[&str], failing: &str| {
        let err = update(&opts(&mirror, ecosystems), &db_dir, &NoProgress).unwrap_err();
        let url = format!("{mirror}/{failing}/all.zip");
        assert!(err.to_string().contains(&url), "{err} should name {url}");
        let db = Db::open(&db_dir).unwrap();
        assert_eq!(db.metadata(), &before);
        assert!(
            db.affected("crates.io", "image").unwrap().iter().any(|e| e.advisory_id == "RUSTSEC-2019-0014")
        );
        assert_eq!(common::dir_entries(&db_dir), [DB_FILE_NAME]);
        err
    };
    let err = check(&["Go", "Missing"], "Missing");
    assert!(matches!(&err, DbError::Download { message, .. } if message.contains("404")), "{err}");
    let err = check(&["Truncated"], "Truncated");
    assert!(matches!(err, DbError::Download { .. }), "{err}");
    let err = check(&["Go", "Garbage"], "Garbage");
    assert!(matches!(err, DbError::Archive { .. }), "{err}");

    // Nothing listening: connection refused.
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let closed = format!("http://127.0.0.1:{port}");
    let err = update(&opts(&closed, &["Go"]), &db_dir, &NoProgress).unwrap_err();
    assert!(matches!(&err, DbError::Download { url, .. } if *url == format!("{closed}/Go/all.zip")), "{err}");
    assert_eq!(Db::open(&db_dir).unwrap().metadata(), &before);
}
