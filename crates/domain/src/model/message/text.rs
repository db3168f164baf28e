//! Text analysis on write: `@username` and `#channel-name` mentions of things that exist, and
//! http(s) links, with their positions (MessageResource `mentions` and `links`).
//!
//! Positions are offsets in Unicode scalar values (characters), `endPosition` exclusive. No
//! network fetch happens here: link previews are not generated.

use crate::model::ids::{ChannelId, UserId};

/// What a mention points at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum MentionTarget {
    /// A user of the application.
    User(UserId),
    /// A channel of the application.
    Channel(ChannelId),
}

/// A mention in a message body.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Mention {
    /// The target.
    pub target: MentionTarget,
    /// The text as written, e.g. `@jane`.
    pub tag: String,
    /// First character.
    pub start_position: usize,
    /// One past the last character.
    pub end_position: usize,
}

/// A link in a message body.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TextLink {
    /// The URL as written.
    pub source: String,
    /// First character.
    pub start_position: usize,
    /// One past the last character.
    pub end_position: usize,
}

/// A whitespace-separated token with surrounding punctuation removed, and its position.
#[derive(Debug, PartialEq, Eq)]
struct Token<'a> {
    text: &'a str,
    start: usize,
}

const LEADING: &[char] = &['(', '[', '{', '"', '\'', '<'];
const TRAILING: &[char] = &['.', ',', '!', '?', ';', ':', ')', ']', '}', '"', '\'', '>'];

fn tokens(body: &str) -> Vec<Token<'_>> {
    let mut out = Vec::new();
    let mut token_start: Option<(usize, usize)> = None; // (byte, char)
    for (chars, (byte, c)) in body.char_indices().chain(std::iter::once((body.len(), ' '))).enumerate() {
        if c.is_whitespace() {
            if let Some((start_byte, start_char)) = token_start.take() {
                let raw = &body[start_byte..byte];
                let lead = raw.len() - raw.trim_start_matches(LEADING).len();
                let text = raw[lead..].trim_end_matches(TRAILING);
                let lead_chars = raw[..lead].chars().count();
                if !text.is_empty() {
                    out.push(Token { text, start: start_char + lead_chars });
                }
            }
        } else if token_start.is_none() {
            token_start = Some((byte, chars));
        }
    }
    out
}

/// What the text of a body may hold, before mentions are looked up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Candidate<'a> {
    /// An http(s) link.
    Link(TextLink),
    /// `@name` (a user) or `#name` (a channel), if one of that name exists.
    Mention {
        /// `true` for `#`.
        channel: bool,
        /// The name after the sigil.
        name: &'a str,
        /// The text as written.
        tag: &'a str,
        /// First character.
        start_position: usize,
        /// One past the last character.
        end_position: usize,
    },
}

/// The links and mention candidates of a body, in order.
pub fn scan(body: &str) -> Vec<Candidate<'_>> {
    let mut found = Vec::new();
    for token in tokens(body) {
        let length = token.text.chars().count();
        let end_position = token.start + length;
        if token.text.starts_with("https://") || token.text.starts_with("http://") {
            if length > "https://".len() {
                found.push(Candidate::Link(TextLink {
                    source: token.text.to_owned(),
                    start_position: token.start,
                    end_position,
                }));
            }
            continue;
        }
        let (sigil, name) = token.text.split_at(token.text.chars().next().map_or(0, char::len_utf8));
        if name.is_empty() || !matches!(sigil, "@" | "#") {
            continue;
        }
        found.push(Candidate::Mention {
            channel: sigil == "#",
            name,
            tag: token.text,
            start_position: token.start,
            end_position,
        });
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_strip_punctuation_and_count_characters() {
        let found = tokens("héllo (@jane), see https://x.io/a?b=1. #général!");
        let texts: Vec<(&str, usize)> = found.iter().map(|t| (t.text, t.start)).collect();
        assert_eq!(texts, [("héllo", 0), ("@jane", 7), ("see", 15), ("https://x.io/a?b=1", 19), ("#général", 39)]);
    }

    #[test]
    fn emails_in_mentions_survive() {
        let found = tokens("hi @jane@chatkitty.com.");
        assert_eq!(found[1].text, "@jane@chatkitty.com");
    }
}
