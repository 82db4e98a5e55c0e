//! The parsers behind [`DatabaseUrl::parse`] (URL and key=value forms) and the redacted renderer.

use super::{DatabaseUrl, DbUrlError, Dialect, Host, HostPort, Password, Shown, SslMode};

/// Parses either form; see the module docs of `db_url`.
pub(super) fn parse(input: &str) -> Result<DatabaseUrl, DbUrlError> {
    let input = input.trim();
    if input.is_empty() {
        return Err(DbUrlError::Empty);
    }
    match scheme_of(input) {
        Some((scheme, rest)) => parse_url(scheme, rest),
        None if input.contains('=') => parse_key_value(input),
        None => Err(DbUrlError::NotAUrl),
    }
}

/// Splits `scheme:rest` when the input starts with an RFC 3986 scheme.
fn scheme_of(input: &str) -> Option<(&str, &str)> {
    let colon = input.find(':')?;
    let scheme = &input[..colon];
    let mut chars = scheme.chars();
    let first_is_letter = chars.next().is_some_and(|c| c.is_ascii_alphabetic());
    let rest_ok = chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    (first_is_letter && rest_ok).then(|| (scheme, &input[colon + 1..]))
}

/// What the parsers collect before hosts and ports are paired up.
struct Parts {
    hide: bool,
    hosts: Vec<String>,
    ports: Vec<String>,
    url: DatabaseUrl,
}

impl Parts {
    fn new(dialect: Dialect, hide: bool) -> Parts {
        Parts {
            hide,
            hosts: Vec::new(),
            ports: Vec::new(),
            url: DatabaseUrl {
                dialect,
                hosts: Vec::new(),
                user: None,
                password: None,
                dbname: None,
                sslmode: None,
                sslrootcert: None,
                application_name: None,
                connect_timeout: None,
                options: None,
            },
        }
    }

    /// A value for an error message, withheld when the input carries a password.
    fn shown(&self, value: &str) -> Shown {
        Shown((!self.hide).then(|| value.to_owned()))
    }

    /// Applies one libpq connection parameter (from a URL query or a key=value string).
    fn apply(&mut self, key: &str, value: String) -> Result<(), DbUrlError> {
        let non_empty = |v: String| (!v.is_empty()).then_some(v);
        match key {
            "host" => self.hosts = value.split(',').map(str::to_owned).collect(),
            "port" => self.ports = value.split(',').map(str::to_owned).collect(),
            "user" => self.url.user = non_empty(value),
            "password" => self.url.password = non_empty(value).map(Password),
            "dbname" => self.url.dbname = non_empty(value),
            "sslmode" | "ssl" => {
                let mode =
                    SslMode::from_libpq(&value).ok_or_else(|| DbUrlError::InvalidSslMode {
                        value: self.shown(&value),
                    })?;
                self.url.sslmode = Some(mode);
            }
            "sslrootcert" => self.url.sslrootcert = non_empty(value),
            "application_name" => self.url.application_name = non_empty(value),
            "connect_timeout" => {
                let seconds: u64 =
                    value
                        .trim()
                        .parse()
                        .map_err(|_| DbUrlError::InvalidConnectTimeout {
                            value: self.shown(&value),
                        })?;
                self.url.connect_timeout = (seconds > 0).then_some(seconds);
            }
            "options" => self.url.options = non_empty(value),
            other => {
                return Err(DbUrlError::UnknownParameter {
                    name: self.shown(other),
                })
            }
        }
        Ok(())
    }

    /// Pairs hosts with ports (one port for all, or one per host) and finishes the URL.
    fn finish(mut self, port_hint: &'static str) -> Result<DatabaseUrl, DbUrlError> {
        let mut ports = Vec::with_capacity(self.ports.len());
        for text in &self.ports {
            if text.is_empty() {
                ports.push(None);
                continue;
            }
            match text.parse::<u16>() {
                Ok(port) if port > 0 => ports.push(Some(port)),
                _ => {
                    return Err(DbUrlError::InvalidPort {
                        value: self.shown(text),
                        hint: port_hint,
                    })
                }
            }
        }
        let mut hosts = std::mem::take(&mut self.hosts);
        if hosts.is_empty() {
            hosts.push(String::new());
        }
        let port_for = |i: usize| -> Result<Option<u16>, DbUrlError> {
            match ports.len() {
                0 => Ok(None),
                1 => Ok(ports[0]),
                n if n == hosts.len() => Ok(ports[i]),
                n => Err(DbUrlError::PortCount {
                    hosts: hosts.len(),
                    ports: n,
                }),
            }
        };
        let mut paired = Vec::with_capacity(hosts.len());
        for (i, name) in hosts.iter().enumerate() {
            let host = if name.is_empty() {
                Host::Tcp("localhost".to_owned())
            } else if name.starts_with('/') {
                Host::Socket(name.clone())
            } else {
                Host::Tcp(name.clone())
            };
            paired.push(HostPort {
                host,
                port: port_for(i)?,
            });
        }
        self.url.hosts = paired;
        Ok(self.url)
    }
}

fn parse_url(scheme: &str, rest: &str) -> Result<DatabaseUrl, DbUrlError> {
    let dialect = Dialect::from_scheme(scheme).ok_or_else(|| DbUrlError::UnknownScheme {
        scheme: scheme.to_owned(),
    })?;
    if dialect == Dialect::Sqlite {
        let mut parts = Parts::new(Dialect::Sqlite, false);
        parts.url.dbname = Some(rest.to_owned());
        return Ok(parts.url);
    }
    let rest = rest
        .strip_prefix("//")
        .ok_or_else(|| DbUrlError::MissingSlashes {
            scheme: scheme.to_owned(),
        })?;
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, after) = rest.split_at(authority_end);
    let (path, query) = match after.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (after, None),
    };
    let (userinfo, hostlist) = match authority.rfind('@') {
        Some(at) => (Some(&authority[..at]), &authority[at + 1..]),
        None => (None, authority),
    };
    let hide = userinfo.is_some_and(|u| u.contains(':'))
        || query.is_some_and(|q| q.to_ascii_lowercase().contains("password"))
        || (userinfo.is_none() && after.contains('@'));
    let mut parts = Parts::new(Dialect::Postgres, hide);

    if let Some(userinfo) = userinfo {
        let (user, password) = match userinfo.split_once(':') {
            Some((user, password)) => (user, Some(password)),
            None => (userinfo, None),
        };
        let user = decode(user, "user")?;
        parts.url.user = (!user.is_empty()).then_some(user);
        if let Some(password) = password {
            let password = decode(password, "password")?;
            parts.url.password = (!password.is_empty()).then_some(Password(password));
        }
    }
    if !hostlist.is_empty() {
        for entry in hostlist.split(',') {
            let (host, port) = split_host_port(entry)?;
            parts.hosts.push(decode(host, "host")?);
            parts.ports.push(port.to_owned());
        }
        if parts.ports.iter().all(String::is_empty) {
            parts.ports.clear();
        }
    }
    let dbname = decode(path.strip_prefix('/').unwrap_or(path), "database name")?;
    parts.url.dbname = (!dbname.is_empty()).then_some(dbname);

    for pair in query.unwrap_or_default().split('&') {
        if pair.is_empty() {
            continue;
        }
        let Some((key, value)) = pair.split_once('=') else {
            return Err(DbUrlError::ParameterWithoutValue {
                name: parts.shown(pair),
            });
        };
        let key = decode(key, "query")?;
        let value = decode(value, "query")?;
        parts.apply(&key, value)?;
    }
    // A port that does not parse, with an `@` after the authority, is most likely a password
    // holding an unencoded `/` or `?`: say so rather than quote the fragment.
    let hint = if userinfo.is_none() && after.contains('@') {
        "; if the password contains / ? # @ : or %, percent-encode it (/ is %2F)"
    } else {
        ""
    };
    parts.finish(hint)
}

/// Splits `host[:port]` or `[v6][:port]`.
fn split_host_port(entry: &str) -> Result<(&str, &str), DbUrlError> {
    if let Some(bracketed) = entry.strip_prefix('[') {
        let close = bracketed.find(']').ok_or(DbUrlError::UnclosedIpv6)?;
        let host = &bracketed[..close];
        let port = bracketed[close + 1..].strip_prefix(':').unwrap_or_default();
        return Ok((host, port));
    }
    Ok(entry.split_once(':').unwrap_or((entry, "")))
}

/// Parses libpq's `key = value` syntax: values unquoted (backslash escapes the next character)
/// or single-quoted (with `\'` and `\\`).
fn parse_key_value(input: &str) -> Result<DatabaseUrl, DbUrlError> {
    let hide = input.to_ascii_lowercase().contains("password");
    let mut parts = Parts::new(Dialect::Postgres, hide);
    let bytes: Vec<char> = input.chars().collect();
    let mut i = 0;
    let syntax = |problem, position| DbUrlError::KeyValueSyntax { problem, position };
    loop {
        while i < bytes.len() && bytes[i].is_whitespace() {
            i += 1;
        }
        if i == bytes.len() {
            break;
        }
        let key_start = i;
        while i < bytes.len() && !bytes[i].is_whitespace() && bytes[i] != '=' {
            i += 1;
        }
        let key: String = bytes[key_start..i].iter().collect();
        if key.is_empty() {
            return Err(syntax("a `=` without a key", byte_offset(&bytes, i)));
        }
        while i < bytes.len() && bytes[i].is_whitespace() {
            i += 1;
        }
        if i == bytes.len() || bytes[i] != '=' {
            return Err(syntax(
                "a key without `=` and a value",
                byte_offset(&bytes, key_start),
            ));
        }
        i += 1;
        while i < bytes.len() && bytes[i].is_whitespace() {
            i += 1;
        }
        let mut value = String::new();
        if i < bytes.len() && bytes[i] == '\'' {
            let open = i;
            i += 1;
            loop {
                match bytes.get(i) {
                    None => return Err(syntax("an unterminated quote", byte_offset(&bytes, open))),
                    Some('\'') => {
                        i += 1;
                        break;
                    }
                    Some('\\') if i + 1 < bytes.len() => {
                        value.push(bytes[i + 1]);
                        i += 2;
                    }
                    Some(c) => {
                        value.push(*c);
                        i += 1;
                    }
                }
            }
        } else {
            while i < bytes.len() && !bytes[i].is_whitespace() {
                if bytes[i] == '\\' && i + 1 < bytes.len() {
                    i += 1;
                }
                value.push(bytes[i]);
                i += 1;
            }
        }
        parts.apply(&key, value)?;
    }
    parts.finish("")
}

fn byte_offset(chars: &[char], index: usize) -> usize {
    chars[..index].iter().map(|c| c.len_utf8()).sum()
}

/// Percent-decodes one URL component (`+` stays a plus, as in libpq).
fn decode(text: &str, component: &'static str) -> Result<String, DbUrlError> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or(DbUrlError::InvalidPercentEncoding { component })?;
            out.push(hex);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| DbUrlError::InvalidUtf8 { component })
}

/// Percent-encodes everything but RFC 3986 unreserved characters.
fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// The normalised `postgresql://` URL with `***` for the password (`sqlite:` URLs as given).
pub(super) fn render_redacted(url: &DatabaseUrl) -> String {
    if url.dialect == Dialect::Sqlite {
        return format!("sqlite:{}", url.dbname.as_deref().unwrap_or_default());
    }
    let mut out = String::from("postgresql://");
    if url.user.is_some() || url.password.is_some() {
        out.push_str(&encode(url.user.as_deref().unwrap_or_default()));
        if url.password.is_some() {
            out.push_str(":***");
        }
        out.push('@');
    }
    let hosts: Vec<String> = url
        .hosts
        .iter()
        .map(|hp| {
            let host = match &hp.host {
                Host::Tcp(name) if name.contains(':') => format!("[{name}]"),
                Host::Tcp(name) => encode(name),
                Host::Socket(dir) => encode(dir),
            };
            match hp.port {
                Some(port) => format!("{host}:{port}"),
                None => host,
            }
        })
        .collect();
    out.push_str(&hosts.join(","));
    out.push('/');
    out.push_str(&encode(url.dbname.as_deref().unwrap_or_default()));
    let timeout = url.connect_timeout.map(|s| s.to_string());
    let params = [
        ("sslmode", url.sslmode.map(SslMode::as_str)),
        ("sslrootcert", url.sslrootcert.as_deref()),
        ("application_name", url.application_name.as_deref()),
        ("connect_timeout", timeout.as_deref()),
        ("options", url.options.as_deref()),
    ];
    let mut separator = '?';
    for (key, value) in params {
        if let Some(value) = value {
            out.push(separator);
            out.push_str(key);
            out.push('=');
            out.push_str(&encode(value));
            separator = '&';
        }
    }
    out
}
