//! Issue 14, item 3: an AUTH flood must not grow the server's memory without bound, nor leave
//! it grown. Before the fix every Argon2id verification allocated its own 19 MiB work area on
//! whichever thread ran it, and the C allocator kept the freed areas in per-thread arenas: 50
//! TLS sessions of wrong passwords took the server from 84 MB to 503-840 MB, and 490-665 MB
//! stayed in use while idle. Now the work areas are allocated once, one per hashing slot, and
//! reused.
//!
//! The test starts the real server with 16 runtime worker threads (`TOKIO_WORKER_THREADS`, the
//! thread count of a 16-core machine, where the attack was seen; the hashing slots stay one per
//! core of this machine), floods the implicit-TLS submission port with 50 concurrent Python
//! `smtplib` sessions sending wrong `AUTH PLAIN` passwords, and reads the server's peak
//! (`VmHWM`) and idle (`VmRSS`, after the flood) resident memory from `/proc/PID/status`. Both
//! must stay under `base + slots × 19 MiB + margin`, `base` being the resident memory after
//! start. The flood lasts [`DEFAULT_FLOOD`]; set `SANSMAIL_FLOOD_SECONDS` for a longer one.
//! Linux only (`/proc`); needs python3 (never skipped under `CI=true`).

mod support;

use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use support::*;

/// Concurrent sessions, as in the attack of issue 14.
const SESSIONS: usize = 50;
/// How long the flood lasts unless `SANSMAIL_FLOOD_SECONDS` says otherwise.
const DEFAULT_FLOOD: Duration = Duration::from_secs(6);
/// Runtime worker threads of the server under test.
const WORKER_THREADS: &str = "16";
/// One Argon2id work area with the default parameters (m = 19456 KiB).
const WORK_AREA: u64 = 19456 * 1024;
/// Room for everything else 50 TLS sessions and the runtime's threads take (buffers, thread
/// stacks, allocator slack). Measured: under 8 MiB.
const MARGIN: u64 = 64 << 20;

/// The flood: `SESSIONS` threads, each opening implicit-TLS sessions until the deadline and
/// sending up to three wrong `AUTH PLAIN` passwords in each (a session may be closed after a
/// few failures). Arguments: port, user, seconds, sessions. Prints `failures N` (the 535s).
const PY_FLOOD: &str = r#"
import base64, smtplib, ssl, sys, threading, time

port, user, seconds, sessions = int(sys.argv[1]), sys.argv[2], float(sys.argv[3]), int(sys.argv[4])
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
deadline = time.monotonic() + seconds
lock = threading.Lock()
failures = [0]

def flood(i):
    n = 0
    while time.monotonic() < deadline:
        try:
            s = smtplib.SMTP_SSL("127.0.0.1", port, context=ctx, timeout=25)
            s.ehlo("flood.test")
            for _ in range(3):
                if time.monotonic() >= deadline:
                    break
                n += 1
                response = base64.b64encode(("\0%s\0wrong-%d-%d" % (user, i, n)).encode())
                code, _ = s.docmd("AUTH", "PLAIN " + response.decode())
                if code != 535:
                    break
                with lock:
                    failures[0] += 1
            try:
                s.quit()
            except Exception:
                s.close()
        except Exception:
            time.sleep(0.01)

threads = [threading.Thread(target=flood, args=(i,)) for i in range(sessions)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print("failures", failures[0], flush=True)
"#;

/// Runs [`PY_FLOOD`] against `port` for `seconds`, waiting at most the flood plus [`LIMIT`];
/// returns the number of wrong passwords refused with 535.
fn flood(port: u16, seconds: u64) -> usize {
    let mut child = Command::new("python3")
        .args(["-c", PY_FLOOD, &port.to_string(), ALICE])
        .args([&seconds.to_string(), &SESSIONS.to_string()])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run python3");
    let deadline = Instant::now() + Duration::from_secs(seconds) + LIMIT;
    while child.try_wait().expect("wait").is_none() {
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the flood did not end in time");
        }
        thread::sleep(Duration::from_millis(50));
    }
    let out = child.wait_with_output().expect("flood output");
    let stdout = String::from_utf8_lossy(&out.stdout);
    stdout
        .trim()
        .strip_prefix("failures ")
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("flood: {stdout}\n{}", String::from_utf8_lossy(&out.stderr)))
}

#[cfg(target_os = "linux")]
#[test]
fn an_auth_flood_keeps_peak_and_idle_memory_under_the_bound() {
    if !have_python() {
        return;
    }
    let seconds = std::env::var("SANSMAIL_FLOOD_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(DEFAULT_FLOOD.as_secs());
    let dir = TempDir::new("auth-flood");
    let mut args = users();
    // The failure delay of item 2 would only slow the flood down: off, when it exists.
    let help = run_bounded(example_bin("mail-server").to_str().unwrap(), &["--help"]);
    if String::from_utf8_lossy(&help.stdout).contains("--auth-failure-delay") {
        args.extend(["--auth-failure-delay".to_owned(), "0".to_owned()]);
    }
    let server = MailServer::start_with_env(
        &dir.path().join("data"),
        &args,
        &[("TOKIO_WORKER_THREADS", WORKER_THREADS)],
    );
    let pid = server.pid();
    // The server checks as many passwords at once as this machine has cores.
    let slots = thread::available_parallelism().map_or(2, |n| n.get()) as u64;
    let base = status_bytes(pid, "VmRSS");
    let bound = base + slots * WORK_AREA + MARGIN;

    let failures = flood(server.submissions, seconds);
    // Let the sessions close, then measure at rest.
    thread::sleep(Duration::from_millis(500));
    let peak = status_bytes(pid, "VmHWM");
    let idle = status_bytes(pid, "VmRSS");
    let mib = |b: u64| b as f64 / f64::from(1 << 20);
    let figures = format!(
        "{failures} wrong passwords in {seconds} s from {SESSIONS} TLS sessions, {slots} slots, \
         {WORKER_THREADS} worker threads: base {:.1} MiB, peak {:.1} MiB, idle {:.1} MiB, \
         bound {:.1} MiB",
        mib(base),
        mib(peak),
        mib(idle),
        mib(bound)
    );
    eprintln!("{figures}");
    // The flood did check passwords (many per slot), and each was refused.
    assert!(
        failures >= 10 * slots as usize,
        "{figures}\n{}",
        server.logs()
    );
    assert!(peak <= bound, "peak over the bound: {figures}");
    assert!(idle <= bound, "idle over the bound: {figures}");
    // The real user still logs in after the flood.
    let session = py_smtp(
        dir.path(),
        PyArgs {
            mode: "ssl",
            port: server.submissions,
            auth: Some(("PLAIN", ALICE, ALICE_PASSWORD)),
            from: ALICE,
            to: &[ALICE],
            message: None,
            params: "",
        },
    );
    assert_eq!(session.code("auth"), 235, "{}", session.raw);
}
