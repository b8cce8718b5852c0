//! The one scheme check for every URL that reaches a page as a link target.
//!
//! A link is safe when it is an absolute `http:` or `https:` URL with a host (or, where a link
//! may point at an address, `mailto:`). Anything else (`javascript:`, `data:`, `vbscript:`,
//! relative or scheme-less tricks, control characters) is not a link: callers drop it at write
//! time (import, API) and again when reading it back for a page, a mail, a feed or an export.

/// Whether `value` may be written as an `href` that points at a web page.
pub fn is_safe_web_link(value: &str) -> bool {
    checked(value, false).is_some()
}

/// `value` when it is a safe web link, `None` otherwise.
pub fn safe_web_link(value: Option<String>) -> Option<String> {
    value.filter(|v| is_safe_web_link(v))
}

/// `value` when it is a safe web link, the empty string otherwise (for fields where "no URL"
/// is stored as empty).
pub fn safe_web_link_or_empty(value: String) -> String {
    if is_safe_web_link(&value) {
        value
    } else {
        String::new()
    }
}

/// Whether `value` is a safe web link or a `mailto:` address.
pub fn is_safe_link_or_mailto(value: &str) -> bool {
    checked(value, true).is_some()
}

fn checked(value: &str, allow_mailto: bool) -> Option<url::Url> {
    // Browsers strip leading/trailing control characters and white space and ignore tabs and
    // newlines inside a URL ("java\tscript:"): refuse every such value rather than guess.
    if value.is_empty()
        || value
            .chars()
            .any(|c| c.is_control() || c.is_whitespace() || c == '\\')
    {
        return None;
    }
    let parsed = url::Url::parse(value).ok()?;
    // The raw text must start with the scheme the parser saw, so that what a browser reads is
    // what was checked.
    let scheme = parsed.scheme();
    let raw_scheme = value.split(':').next()?;
    if !raw_scheme.eq_ignore_ascii_case(scheme) {
        return None;
    }
    match scheme {
        "http" | "https"
            if value[scheme.len()..].starts_with("://")
                && parsed.host_str().is_some_and(|h| !h.is_empty()) =>
        {
            Some(parsed)
        }
        "mailto" if allow_mailto && value.len() > "mailto:".len() => Some(parsed),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn web_links_pass() {
        for ok in [
            "http://example.org",
            "https://example.org/a?b=c#d",
            "HTTPS://EXAMPLE.ORG/",
            "https://xn--bcher-kva.example/",
        ] {
            assert!(is_safe_web_link(ok), "{ok}");
        }
    }

    #[test]
    fn script_and_odd_schemes_fail() {
        for bad in [
            "javascript:alert(document.domain)",
            "JavaScript:alert(1)",
            " javascript:alert(1)",
            "java\tscript:alert(1)",
            "java\nscript:alert(1)",
            "\u{1}javascript:alert(1)",
            "javascript://example.org/%0aalert(1)",
            "data:text/html,<script>alert(1)</script>",
            "vbscript:msgbox(1)",
            "file:///etc/passwd",
            "//evil.example/",
            "/relative",
            "https:evil.example",
            "http:\\\\evil.example",
            "mailto:a@b.example",
            "",
            "http://",
        ] {
            assert!(!is_safe_web_link(bad), "{bad:?}");
        }
    }

    #[test]
    fn mailto_only_where_allowed() {
        assert!(is_safe_link_or_mailto("mailto:owner@example.org"));
        assert!(is_safe_link_or_mailto("https://example.org/"));
        assert!(!is_safe_link_or_mailto("javascript:alert(1)"));
        assert!(!is_safe_link_or_mailto("mailto:"));
    }

    #[test]
    fn dropping_keeps_safe_values() {
        assert_eq!(
            safe_web_link(Some("https://a.example/".into())),
            Some("https://a.example/".into())
        );
        assert_eq!(safe_web_link(Some("javascript:x".into())), None);
        assert_eq!(safe_web_link_or_empty("javascript:x".into()), "");
    }
}
