//! The configuration document: its text inline, or gzip-compressed when long.

use aws_sdk_dynamodb::types::AttributeValue;
use balance_alert_core::store::ConfigDocument;

use super::{config_key, int, s, AttrError, Corrupt, Item};
use crate::table::kinds;

/// The attribute holding the config document's version.
pub(crate) const CONFIG_VERSION: &str = "version";

/// The config document's text, as written; a document longer than [`INLINE_DOCUMENT`] is kept
/// gzip-compressed in [`TEXT_GZ`] instead (a 10,000-project config is ~1 MB of JSON, ~100 KB
/// compressed, and an item holds 400 KB).
const TEXT: &str = "text";
pub(crate) const TEXT_GZ: &str = "text_gz";
/// Longest document kept as plain text (readable in the console).
const INLINE_DOCUMENT: usize = 64 * 1024;

fn gzip(text: &str) -> Vec<u8> {
    use std::io::Write;
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(text.as_bytes())
        .and_then(|()| e.finish())
        .expect("compressing into memory cannot fail")
}

fn gunzip(bytes: &[u8]) -> Option<String> {
    use std::io::Read;
    let mut text = String::new();
    flate2::read::GzDecoder::new(bytes)
        .read_to_string(&mut text)
        .ok()
        .map(|_| text)
}

/// How many bytes the document's text takes in its item.
pub(crate) fn stored_text_size(item: &Item) -> usize {
    match (item.0.get(TEXT), item.0.get(TEXT_GZ)) {
        (Some(AttributeValue::S(t)), _) => t.len(),
        (_, Some(AttributeValue::B(b))) => b.as_ref().len(),
        _ => 0,
    }
}

impl From<&ConfigDocument> for Item {
    fn from(d: &ConfigDocument) -> Self {
        let mut i = Item::new(kinds::CONFIG, config_key());
        if d.text.len() > INLINE_DOCUMENT {
            i.set(
                TEXT_GZ,
                AttributeValue::B(aws_sdk_dynamodb::primitives::Blob::new(gzip(&d.text))),
            );
        } else {
            i.set(TEXT, s(&d.text));
        }
        i.set(CONFIG_VERSION, int(d.version));
        i.set("updated_at", int(d.updated_at));
        i
    }
}

impl TryFrom<&Item> for ConfigDocument {
    type Error = Corrupt;

    fn try_from(item: &Item) -> Result<Self, Corrupt> {
        item.read("config document", kinds::CONFIG, |i| {
            let text = match i.0.get(TEXT_GZ) {
                None => i.str(TEXT)?,
                Some(AttributeValue::B(b)) => {
                    gunzip(b.as_ref()).ok_or_else(|| AttrError::Invalid {
                        attr: TEXT_GZ,
                        value: format!(
                            "{} bytes that are not gzip-compressed UTF-8",
                            b.as_ref().len()
                        ),
                    })?
                }
                Some(_) => {
                    return Err(AttrError::WrongType {
                        attr: TEXT_GZ,
                        expected: "B",
                    })
                }
            };
            Ok(ConfigDocument {
                text,
                version: i.int(CONFIG_VERSION)?,
                updated_at: i.int("updated_at")?,
            })
        })
    }
}
