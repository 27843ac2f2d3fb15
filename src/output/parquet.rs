//! A [`Table`] as a Parquet file: the batch's tables for pandas, Polars,
//! DuckDB or R without parsing CSV.
//!
//! Overview: one row group, one optional column per table column, typed
//! from its [`Kind`] (`Text` → `BYTE_ARRAY` annotated `STRING`, `Int` →
//! `INT64`, `Float` → `DOUBLE`, `Bool` → `BOOLEAN`); [`Cell::Null`] is a
//! null. Text is raw: the spreadsheet-formula guard of the CSV files is not
//! applied (no spreadsheet evaluates Parquet). Snappy compression, the
//! format's usual codec. The writer records `rns-analyzer <version>` as
//! `created_by` and nothing that varies, so the same table gives the same
//! bytes. Written with the `parquet` crate's column writers (no Arrow: the
//! table is already columnar in its types, and Arrow would add a dozen
//! crates for nothing).

use super::table::{Cell, Column, Kind, Table};
use parquet::basic::{Compression, LogicalType, Repetition, Type as Physical};
use parquet::data_type::{BoolType, ByteArray, ByteArrayType, DoubleType, Int64Type};
use parquet::errors::ParquetError;
use parquet::file::properties::WriterProperties;
use parquet::file::reader::{ChunkReader, FileReader, SerializedFileReader};
use parquet::file::writer::{SerializedColumnWriter, SerializedFileWriter};
use parquet::record::Field;
use parquet::schema::types::Type;
use std::sync::Arc;

/// The Parquet schema of `columns` (every field optional).
pub fn schema(columns: &[Column]) -> Result<Type, ParquetError> {
    let fields = columns
        .iter()
        .map(|c| {
            let (physical, logical) = match c.kind {
                Kind::Text => (Physical::BYTE_ARRAY, Some(LogicalType::String)),
                Kind::Int => (Physical::INT64, None),
                Kind::Float => (Physical::DOUBLE, None),
                Kind::Bool => (Physical::BOOLEAN, None),
            };
            Type::primitive_type_builder(c.name, physical)
                .with_repetition(Repetition::OPTIONAL)
                .with_logical_type(logical)
                .build()
                .map(Arc::new)
        })
        .collect::<Result<Vec<_>, _>>()?;
    Type::group_type_builder("rns_table")
        .with_fields(fields)
        .build()
}

/// `table` as the bytes of a Parquet file. Errors only on a cell whose
/// type is not its column's (a bug in the table's builder).
pub fn to_parquet(table: &Table) -> Result<Vec<u8>, ParquetError> {
    let props = WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .set_created_by(format!("rns-analyzer {}", crate::VERSION))
        .build();
    let mut w = SerializedFileWriter::new(
        Vec::new(),
        Arc::new(schema(&table.columns)?),
        Arc::new(props),
    )?;
    let mut rg = w.next_row_group()?;
    let mut i = 0;
    while let Some(col) = rg.next_column()? {
        let column = table
            .columns
            .get(i)
            .ok_or_else(|| ParquetError::General("more fields than columns".into()))?;
        write_column(col, column, table, i)?;
        i += 1;
    }
    rg.close()?;
    w.into_inner()
}

/// Write column `i` of `table` (its values and definition levels).
fn write_column(
    mut col: SerializedColumnWriter<'_>,
    column: &Column,
    table: &Table,
    i: usize,
) -> Result<(), ParquetError> {
    let cells = table.rows.iter().map(|r| r.get(i).unwrap_or(&Cell::Null));
    let levels: Vec<i16> = cells.clone().map(|c| i16::from(*c != Cell::Null)).collect();
    let wrong = |c: &Cell| {
        ParquetError::General(format!(
            "column {}: a cell of another type: {c:?}",
            column.name
        ))
    };
    macro_rules! values {
        ($variant:ident, $map:expr) => {
            cells
                .filter(|c| **c != Cell::Null)
                .map(|c| match c {
                    Cell::$variant(v) => Ok($map(v)),
                    other => Err(wrong(other)),
                })
                .collect::<Result<Vec<_>, _>>()?
        };
    }
    match column.kind {
        Kind::Text => {
            let v = values!(Text, |s: &String| ByteArray::from(s.as_str()));
            col.typed::<ByteArrayType>()
                .write_batch(&v, Some(&levels), None)?;
        }
        Kind::Int => {
            let v = values!(Int, |n: &i64| *n);
            col.typed::<Int64Type>()
                .write_batch(&v, Some(&levels), None)?;
        }
        Kind::Float => {
            let v = values!(Float, |x: &f64| *x);
            col.typed::<DoubleType>()
                .write_batch(&v, Some(&levels), None)?;
        }
        Kind::Bool => {
            let v = values!(Bool, |b: &bool| *b);
            col.typed::<BoolType>()
                .write_batch(&v, Some(&levels), None)?;
        }
    }
    col.close()
}

/// The cells of a Parquet file of flat optional columns (as
/// [`to_parquet`] writes), row by row, read with the `parquet` crate's
/// record reader: for checks and for users who want the rows without
/// Arrow. Errors on a file it cannot read or on a nested or other-typed
/// field.
pub fn read_cells<R: ChunkReader + 'static>(file: R) -> Result<Vec<Vec<Cell>>, ParquetError> {
    let r = SerializedFileReader::new(file)?;
    let mut rows = Vec::new();
    for row in r.get_row_iter(None)? {
        let cells = row?
            .get_column_iter()
            .map(|(name, f)| match f {
                Field::Null => Ok(Cell::Null),
                Field::Str(s) => Ok(Cell::Text(s.clone())),
                Field::Long(n) => Ok(Cell::Int(*n)),
                Field::Double(x) => Ok(Cell::Float(*x)),
                Field::Bool(b) => Ok(Cell::Bool(*b)),
                other => Err(ParquetError::General(format!(
                    "field {name}: not a table cell: {other:?}"
                ))),
            })
            .collect::<Result<Vec<_>, _>>()?;
        rows.push(cells);
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table() -> Table {
        const COLS: &[Column] = &[
            Column {
                name: "path",
                kind: Kind::Text,
            },
            Column {
                name: "n",
                kind: Kind::Int,
            },
            Column {
                name: "x",
                kind: Kind::Float,
            },
            Column {
                name: "ok",
                kind: Kind::Bool,
            },
        ];
        let mut t = Table::new(COLS);
        t.rows = vec![
            vec![
                Cell::text("=a.wav"),
                Cell::Int(3),
                Cell::Float(-1.25),
                Cell::Bool(true),
            ],
            vec![Cell::Null, Cell::Null, Cell::Null, Cell::Null],
            vec![
                Cell::text("b é.csv"),
                Cell::Int(i64::MAX),
                Cell::Float(1e-300),
                Cell::Bool(false),
            ],
        ];
        t
    }

    fn read_back(bytes: Vec<u8>) -> Vec<Vec<Cell>> {
        read_cells(bytes::Bytes::from(bytes)).unwrap()
    }

    #[test]
    fn cells_read_back_as_written_with_nulls_and_raw_text() {
        let t = table();
        let bytes = to_parquet(&t).unwrap();
        assert_eq!(&bytes[..4], b"PAR1");
        assert_eq!(read_back(bytes), t.rows);
    }

    #[test]
    fn same_table_same_bytes_and_the_schema_is_typed() {
        let t = table();
        assert_eq!(to_parquet(&t).unwrap(), to_parquet(&t).unwrap());
        let r = SerializedFileReader::new(bytes::Bytes::from(to_parquet(&t).unwrap())).unwrap();
        let meta = r.metadata().file_metadata();
        assert_eq!(
            meta.created_by(),
            Some(format!("rns-analyzer {}", crate::VERSION).as_str())
        );
        let fields = meta.schema_descr().columns().to_vec();
        let kinds: Vec<_> = fields.iter().map(|c| c.physical_type()).collect();
        assert_eq!(
            kinds,
            [
                Physical::BYTE_ARRAY,
                Physical::INT64,
                Physical::DOUBLE,
                Physical::BOOLEAN
            ]
        );
        assert_eq!(fields[0].logical_type_ref(), Some(&LogicalType::String));
    }

    #[test]
    fn an_empty_table_is_a_valid_file() {
        let t = Table::new(&table().columns);
        assert!(read_back(to_parquet(&t).unwrap()).is_empty());
    }

    #[test]
    fn a_cell_of_the_wrong_type_is_an_error_not_a_file() {
        let mut t = table();
        t.rows[0][1] = Cell::text("three");
        let e = to_parquet(&t).unwrap_err().to_string();
        assert!(e.contains("column n"), "{e}");
    }
}
