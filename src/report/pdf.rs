//! A report as PDF, printed from its own HTML by a headless Chromium.
//!
//! Overview: [`print_pdf`] hands the written report (`<stem>.html`, which
//! is self-contained: no script, no external resource) to Chromium's
//! `--print-to-pdf`, the same engine and print stylesheet as a browser's
//! Print, so the PDF and the printed page are one layout. Chromium runs
//! with its network features off (no background networking, sync,
//! component updates or QUIC) and a throw-away profile; its profile, home,
//! temporaries and the PDF being made live in a fresh hidden folder inside
//! the output folder (removed afterwards), and the PDF is renamed into place
//! only when complete. The browser is `RNS_CHROMIUM` when set, else the first
//! of `chromium`, `chromium-browser`, `google-chrome`,
//! `google-chrome-stable` on `PATH`.

use crate::error::{Error, Result};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// How long Chromium may take to print one report.
pub const PRINT_TIMEOUT: Duration = Duration::from_secs(120);

/// The browser to print with, if one is found.
pub fn browser() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("RNS_CHROMIUM") {
        let p = PathBuf::from(p);
        return p.is_file().then_some(p);
    }
    let path = std::env::var_os("PATH")?;
    for dir in std::env::split_paths(&path) {
        for name in [
            "chromium",
            "chromium-browser",
            "google-chrome",
            "google-chrome-stable",
        ] {
            let p = dir.join(name);
            if p.is_file() {
                return Some(p);
            }
        }
    }
    None
}

/// The browser, or the usage error `--pdf` gives without one (checked
/// before any analysis, and again when printing).
pub fn require_browser() -> Result<PathBuf> {
    browser().ok_or_else(|| {
        Error::Usage(
            "--pdf needs Chromium or Google Chrome: none was found on PATH (install Debian's \
             `chromium`, or set RNS_CHROMIUM to the browser's path)"
                .into(),
        )
    })
}

/// Print `html` (a report written in `dir`) to `pdf` (in `dir` too).
///
/// # Errors
/// [`Error::Usage`] when no browser is found; [`Error::Io`] (naming the
/// PDF) when the browser fails, times out or writes nothing.
pub fn print_pdf(html: &Path, pdf: &Path, dir: &Path) -> Result<()> {
    let fail = |what: String| Error::Io {
        path: pdf.to_path_buf(),
        source: std::io::Error::other(what),
    };
    let chrome = require_browser()?;
    let work = fresh_work_dir(dir)?;
    // The browser prints a copy under a plain name: the report's own name
    // may hold `#`, `?` or `%`, which a file URL would misread.
    let copy = work.join("report.html");
    let result = std::fs::copy(html, &copy)
        .map_err(|e| Error::Io {
            path: html.to_path_buf(),
            source: e,
        })
        .and_then(|_| run_browser(&chrome, &copy, &work))
        .and_then(|made| {
            let bytes =
                std::fs::read(&made).map_err(|e| fail(format!("no PDF was printed ({e})")))?;
            if !bytes.starts_with(b"%PDF-") {
                return Err(fail("the browser wrote something that is not a PDF".into()));
            }
            crate::export::atomic::write_atomic_replacing(pdf, &bytes)
        });
    let _ = std::fs::remove_dir_all(&work);
    result
}

/// A new, empty folder `.rns-pdf.<pid>.<n>.tmp` in `dir`, made with
/// `create_dir` (never an existing folder or a planted link), for the
/// browser's profile, home and output.
fn fresh_work_dir(dir: &Path) -> Result<PathBuf> {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let mut last = None;
    for _ in 0..16 {
        let n = N.fetch_add(1, Ordering::Relaxed);
        let p = dir.join(format!(".rns-pdf.{}.{n}{nanos:09}.tmp", std::process::id()));
        match std::fs::create_dir(&p) {
            Ok(()) => return Ok(p),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => last = Some(e),
            Err(e) => return Err(Error::Io { path: p, source: e }),
        }
    }
    Err(Error::Io {
        path: dir.to_path_buf(),
        source: last.unwrap_or_else(|| std::io::Error::other("no fresh folder")),
    })
}

/// Run the browser on `html`, writing `work/out.pdf`; its path on success.
fn run_browser(chrome: &Path, html: &Path, work: &Path) -> Result<PathBuf> {
    let out = work.join("out.pdf");
    let io = |e: std::io::Error| Error::Io {
        path: chrome.to_path_buf(),
        source: e,
    };
    let abs = html.canonicalize().map_err(|e| Error::Io {
        path: html.to_path_buf(),
        source: e,
    })?;
    // The browser's home, caches and temporaries live in `work` too, so
    // it writes nothing outside the output folder.
    let mut cmd = Command::new(chrome);
    for var in [
        "HOME",
        "TMPDIR",
        "XDG_CONFIG_HOME",
        "XDG_CACHE_HOME",
        "XDG_DATA_HOME",
    ] {
        cmd.env(var, work);
    }
    #[cfg(unix)]
    {
        // Its own process group, so a timeout stops its helpers as well.
        use std::os::unix::process::CommandExt as _;
        cmd.process_group(0);
    }
    let mut child = cmd
        .args([
            "--headless",
            // The page is the report's own escaped HTML without scripts;
            // the sandbox cannot start as root, where CI runs.
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-extensions",
            "--no-pdf-header-footer",
        ])
        .arg(format!(
            "--user-data-dir={}",
            work.join("profile").display()
        ))
        .arg(format!("--print-to-pdf={}", out.display()))
        .arg(format!("file://{}", abs.display()))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(io)?;
    let deadline = Instant::now() + PRINT_TIMEOUT;
    loop {
        if let Some(status) = child.try_wait().map_err(io)? {
            if !status.success() {
                return Err(io(std::io::Error::other(format!(
                    "the browser failed to print the PDF ({status})"
                ))));
            }
            return Ok(out);
        }
        if Instant::now() > deadline {
            #[cfg(unix)]
            let _ = Command::new("kill")
                .args(["-KILL", "--", &format!("-{}", child.id())])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
            let _ = child.kill();
            let _ = child.wait();
            return Err(io(std::io::Error::other(format!(
                "the browser did not print the PDF within {} s",
                PRINT_TIMEOUT.as_secs()
            ))));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}
