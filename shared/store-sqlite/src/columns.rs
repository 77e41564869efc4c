//! Column conversions every role shares: exact amounts in REAL columns, JSON text columns.

use balance_alert_core::model::Decimal;
use balance_alert_core::store::StoreError;
use rusqlite::types::{FromSql, FromSqlError, FromSqlResult, ToSql, ToSqlOutput, ValueRef};
use rusqlite::Row;

/// An exact amount in a REAL column. Written as its decimal text (which SQLite stores as the
/// nearest double), read back through the double's shortest decimal form: amounts of up to 15
/// significant digits come back exactly as written.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Amount(pub(crate) Decimal);

impl ToSql for Amount {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::from(self.0.normalize().to_string()))
    }
}

impl FromSql for Amount {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
        let text = match value {
            ValueRef::Integer(i) => return Ok(Amount(Decimal::from(i))),
            ValueRef::Real(f) => f.to_string(),
            ValueRef::Text(t) => String::from_utf8_lossy(t).into_owned(),
            _ => return Err(FromSqlError::InvalidType),
        };
        balance_alert_core::money::parse_stored(&text)
            .map(Amount)
            .ok_or(FromSqlError::InvalidType)
    }
}

pub(crate) fn amount(d: Option<Decimal>) -> Option<Amount> {
    d.map(Amount)
}

pub(crate) fn get_amount(r: &Row<'_>, i: usize) -> rusqlite::Result<Decimal> {
    Ok(r.get::<_, Amount>(i)?.0)
}

pub(crate) fn get_opt_amount(r: &Row<'_>, i: usize) -> rusqlite::Result<Option<Decimal>> {
    Ok(r.get::<_, Option<Amount>>(i)?.map(|a| a.0))
}

pub(crate) fn to_json<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_default()
}

/// A JSON text column: NULL is None; text that does not parse is a corrupt item.
pub(crate) fn json_column<T: serde::de::DeserializeOwned>(
    r: &Row<'_>,
    i: usize,
    item: &'static str,
) -> rusqlite::Result<Result<Option<T>, StoreError>> {
    let text: Option<String> = r.get(i)?;
    Ok(match text {
        None => Ok(None),
        Some(t) => serde_json::from_str(&t)
            .map(Some)
            .map_err(|e| StoreError::Corrupt {
                item,
                message: format!("column {i}: {e}"),
            }),
    })
}

pub(crate) fn collect<T>(rows: Vec<Result<T, StoreError>>) -> Result<Vec<T>, StoreError> {
    rows.into_iter().collect()
}
