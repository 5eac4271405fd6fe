//! The conformance server as its own process: for tests that must see what a real server does
//! with its resources (file descriptors, memory) or read what it prints.

use std::io::{BufRead, BufReader, Read};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};

/// The conformance server as a child process, its stderr collected; killed on drop.
pub(crate) struct ServerProcess {
    child: Child,
    pub(crate) addr: SocketAddr,
    stderr: Option<std::thread::JoinHandle<String>>,
}

impl ServerProcess {
    pub(crate) fn start() -> Self {
        // FERRIO_CONFORMANCE_BIN runs another build of the server (an older one, to see a test
        // fail against it).
        let binary = std::env::var("FERRIO_CONFORMANCE_BIN")
            .unwrap_or_else(|_| env!("CARGO_BIN_EXE_conformance").to_owned());
        let mut child = Command::new(binary)
            .env("PORT", "0")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start the conformance server");
        let mut first = String::new();
        BufReader::new(child.stdout.take().expect("stdout")).read_line(&mut first).expect("read");
        let addr = first
            .trim()
            .rsplit("http://")
            .next()
            .and_then(|a| a.parse().ok())
            .unwrap_or_else(|| panic!("expected the address on the first line, got {first:?}"));
        // Drained all along, so the server never blocks on a full pipe.
        let mut pipe = child.stderr.take().expect("stderr");
        let stderr = std::thread::spawn(move || {
            let mut bytes = Vec::new();
            let _ = pipe.read_to_end(&mut bytes);
            String::from_utf8_lossy(&bytes).into_owned()
        });
        ServerProcess { child, addr, stderr: Some(stderr) }
    }

    /// How many file descriptors the server has open (sockets included).
    pub(crate) fn open_fds(&self) -> usize {
        std::fs::read_dir(format!("/proc/{}/fd", self.child.id())).map_or(0, Iterator::count)
    }

    /// The server's resident memory, in KiB.
    pub(crate) fn rss_kib(&self) -> usize {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .unwrap_or_default();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or(0)
    }

    /// Checks the server is still running, stops it, and returns all it wrote to stderr.
    pub(crate) fn stop(mut self) -> String {
        assert!(self.child.try_wait().expect("child status").is_none(), "the server exited");
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.stderr.take().map(|t| t.join().expect("stderr reader")).unwrap_or_default()
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
