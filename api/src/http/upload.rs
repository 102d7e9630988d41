//! The budget of a multipart request, checked on its bytes before async-graphql parses it:
//! a real count of parts, and no part name twice (the GraphQL multipart request spec names
//! each part once: `operations`, `map`, then one per file).

use std::collections::HashSet;

/// Why a multipart body is refused before parsing.
#[derive(Debug, PartialEq, Eq)]
pub enum Refused {
    NotMultipart,
    TooManyParts(usize),
    DuplicateName(String),
}

/// The boundary of a `multipart/form-data` content type.
fn boundary(content_type: &str) -> Option<&str> {
    content_type.split(';').skip(1).find_map(|param| {
        let (key, value) = param.trim().split_once('=')?;
        key.trim()
            .eq_ignore_ascii_case("boundary")
            .then(|| value.trim().trim_matches('"'))
            .filter(|b| !b.is_empty() && b.len() <= 200)
    })
}

/// The `name` of a part's `Content-Disposition` header, from the part's header block.
fn part_name(headers: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(headers);
    let line = text
        .split("\r\n")
        .find(|l| l.to_ascii_lowercase().starts_with("content-disposition:"))?;
    line.split(';').skip(1).find_map(|param| {
        let (key, value) = param.trim().split_once('=')?;
        (key.trim() == "name").then(|| value.trim().trim_matches('"').to_owned())
    })
}

/// Counts the parts of a multipart body (at most `max_parts`) and refuses a name given twice.
pub fn check(content_type: &str, body: &[u8], max_parts: usize) -> Result<(), Refused> {
    let boundary = boundary(content_type).ok_or(Refused::NotMultipart)?;
    let delimiter = format!("--{boundary}");
    let finder = memchr::memmem::Finder::new(delimiter.as_bytes());
    let mut names = HashSet::new();
    let mut parts = 0usize;
    for at in finder.find_iter(body) {
        // A delimiter starts the body or a line.
        if at != 0 && !body[..at].ends_with(b"\r\n") {
            continue;
        }
        let rest = &body[at + delimiter.len()..];
        if rest.starts_with(b"--") {
            break;
        }
        parts += 1;
        if parts > max_parts {
            return Err(Refused::TooManyParts(max_parts));
        }
        let head_end = memchr::memmem::find(rest, b"\r\n\r\n").unwrap_or(rest.len());
        if let Some(name) = part_name(&rest[..head_end.min(8 * 1024)])
            && !names.insert(name.clone())
        {
            return Err(Refused::DuplicateName(name));
        }
    }
    if parts == 0 {
        return Err(Refused::NotMultipart);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(names: &[&str]) -> Vec<u8> {
        let mut b = Vec::new();
        for n in names {
            b.extend_from_slice(
                format!("--XyZ\r\nContent-Disposition: form-data; name=\"{n}\"\r\n\r\nv\r\n")
                    .as_bytes(),
            );
        }
        b.extend_from_slice(b"--XyZ--\r\n");
        b
    }

    #[test]
    fn counts_parts_and_refuses_a_name_twice() {
        let ct = "multipart/form-data; boundary=XyZ";
        assert_eq!(check(ct, &body(&["operations", "map", "0"]), 3), Ok(()));
        assert_eq!(
            check(ct, &body(&["operations", "map", "0", "1"]), 3),
            Err(Refused::TooManyParts(3))
        );
        assert_eq!(
            check(ct, &body(&["operations", "map", "0", "0"]), 9),
            Err(Refused::DuplicateName("0".into()))
        );
        assert_eq!(
            check("multipart/form-data", &body(&["operations"]), 9),
            Err(Refused::NotMultipart)
        );
    }
}
