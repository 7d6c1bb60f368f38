//! `mx-lookup`: where mail for a domain goes. Resolves the domain's mail exchangers with
//! mx-resolve's stub resolver and planner (RFC 5321 section 5.1, RFC 7505) and prints one line
//! per delivery candidate, in the order a sender tries them.
//!
//! ```text
//! cargo run -p sansmail-examples --example mx-lookup -- [--server IP:PORT] DOMAIN
//! ```

use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use mx_resolve::plan::PlanConfig;
use mx_resolve::tokio::{Resolver, ResolverConfig};

/// The usage text printed by `--help`.
const USAGE: &str = "\
mx-lookup: print where mail for a domain is delivered, in delivery order.

USAGE:
    cargo run -p sansmail-examples --example mx-lookup -- [OPTIONS] DOMAIN

DOMAIN is a domain name (UTF-8 or A-labels) or an address literal ([192.0.2.1],
[IPv6:2001:db8::1]). Each line of output is one delivery candidate:

    PREFERENCE EXCHANGE ADDRESS          for example: 10 mx1.example.org. 192.0.2.7

Equal preferences come in random order. A failure is printed on stderr with its class and the
enhanced status code a bounce would carry, for example:

    permanent 5.1.10: example.org. does not accept mail (null MX, RFC 7505)

OPTIONS:
    --server IP:PORT   Ask this nameserver (repeat for more) instead of those of
                       /etc/resolv.conf (whose search and ndots options are never used)
    --timeout SECS     Wait per try and nameserver, in seconds (fractions allowed) [default: 3]
    -h, --help         Print this text

EXIT CODES:
    0   candidates printed
    1   permanent failure (the message would bounce)
    2   the command line is wrong
    75  temporary failure (the message would be retried)
";

/// What the command line asks for.
enum Parsed {
    Lookup {
        servers: Vec<SocketAddr>,
        timeout: Option<Duration>,
        domain: String,
    },
    Help,
}

fn parse_args(args: Vec<String>) -> Result<Parsed, String> {
    if args.iter().any(|a| a == "--help" || a == "-h") {
        return Ok(Parsed::Help);
    }
    let mut servers = Vec::new();
    let mut timeout = None;
    let mut domain = None;
    let mut it = args.into_iter();
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--server" => {
                let value = it.next().ok_or("--server needs IP:PORT")?;
                let server = value
                    .parse::<SocketAddr>()
                    .map_err(|_| format!("--server {value}: expected IP:PORT"))?;
                servers.push(server);
            }
            "--timeout" => {
                let value = it.next().ok_or("--timeout needs SECS")?;
                let seconds = value
                    .parse::<f64>()
                    .ok()
                    .filter(|s| s.is_finite() && *s > 0.0 && *s <= 3600.0)
                    .ok_or(format!("--timeout {value}: expected seconds, 0 to 3600"))?;
                timeout = Some(Duration::from_secs_f64(seconds));
            }
            other if other.starts_with("--") => return Err(format!("unknown option {other}")),
            _ if domain.is_some() => return Err(format!("{arg}: only one DOMAIN")),
            _ => domain = Some(arg),
        }
    }
    let domain = domain.ok_or("expected a DOMAIN")?;
    Ok(Parsed::Lookup {
        servers,
        timeout,
        domain,
    })
}

fn main() -> ExitCode {
    let (servers, timeout, domain) = match parse_args(std::env::args().skip(1).collect()) {
        Ok(Parsed::Lookup {
            servers,
            timeout,
            domain,
        }) => (servers, timeout, domain),
        Ok(Parsed::Help) => {
            print!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(error) => {
            eprintln!("mx-lookup: {error}\n\nRun with --help for the options.");
            return ExitCode::from(2);
        }
    };
    let mut config = if servers.is_empty() {
        match std::fs::read_to_string("/etc/resolv.conf") {
            Ok(text) => ResolverConfig::from_resolv_conf(&text),
            Err(error) => {
                eprintln!("mx-lookup: cannot read /etc/resolv.conf: {error}");
                return ExitCode::from(75);
            }
        }
    } else {
        ResolverConfig {
            nameservers: servers,
            ..ResolverConfig::default()
        }
    };
    if let Some(timeout) = timeout {
        config.timeout = timeout;
    }
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("mx-lookup: cannot start the runtime: {error}");
            return ExitCode::from(75);
        }
    };
    let resolver = Resolver::new(config);
    match runtime.block_on(resolver.plan(&domain, &PlanConfig::default())) {
        Ok(candidates) => {
            for candidate in candidates {
                println!("{candidate}");
            }
            ExitCode::SUCCESS
        }
        Err(error) => {
            let (class, code) = if error.is_permanent() {
                ("permanent", 1)
            } else {
                ("temporary", 75)
            };
            eprintln!("{class} {}: {error}", error.enhanced_status());
            ExitCode::from(code)
        }
    }
}
