//! The output choice, made once from the global flags, and the writers of each format.
//!
//! A render function ([`crate::render`]) describes a result twice: as one JSON document (a
//! serializable value) and, for people, as a [`Page`] of lines and tables that knows nothing of the
//! format. [`Output::print`] writes whichever the format asks for. A new format (HTML, Markdown) is a
//! [`Format`] variant and a writer of pages here; no render function changes.

use comfy_table::{ContentArrangement, presets::UTF8_FULL_CONDENSED};
use serde::Serialize;

/// How results are printed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// Lines and text tables, for a terminal.
    Table,
    /// One pretty-printed JSON document, for scripts (`--json`).
    Json,
}

/// Which names and titles people see.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Language {
    /// As the ledger records them (the source's language).
    Original,
    /// English where the ledger has it (`--english`).
    English,
}

/// The output choice: a format and a language, passed by reference to every render function.
#[derive(Clone, Copy, Debug)]
pub struct Output {
    /// How to print.
    pub format: Format,
    /// Which names to prefer.
    pub language: Language,
}

impl Output {
    /// From the global flags.
    pub fn new(json: bool, english: bool) -> Output {
        Output {
            format: if json { Format::Json } else { Format::Table },
            language: if english { Language::English } else { Language::Original },
        }
    }

    /// Whether the output is for people (every format but JSON).
    pub fn for_people(&self) -> bool {
        self.format != Format::Json
    }

    /// A name or title: the English one when preferred and present, else the original.
    pub fn pick<'a>(&self, original: &'a str, english: Option<&'a str>) -> &'a str {
        match self.language {
            Language::English => english.unwrap_or(original),
            Language::Original => original,
        }
    }

    /// One of two labels by language.
    pub fn choose<T>(&self, original: T, english: T) -> T {
        match self.language {
            Language::English => english,
            Language::Original => original,
        }
    }

    /// Prints one result: the JSON document `json` builds, or the page `page` writes.
    pub fn print<J: Serialize>(&self, json: impl FnOnce() -> J, page: impl FnOnce(&mut Page)) {
        match self.format {
            Format::Json => println!("{}", serde_json::to_string_pretty(&json()).expect("views always serialize")),
            Format::Table => {
                let mut p = Page::default();
                page(&mut p);
                p.write_text();
            }
        }
    }

    /// Prints a page for people; JSON prints nothing (for what only people need to read).
    pub fn note(&self, page: impl FnOnce(&mut Page)) {
        if self.for_people() {
            let mut p = Page::default();
            page(&mut p);
            p.write_text();
        }
    }
}

/// What a result shows people, in order, independent of the format.
#[derive(Debug, Default)]
pub struct Page {
    blocks: Vec<Block>,
}

#[derive(Debug)]
enum Block {
    /// A line of text (it may hold line breaks; an empty one is a blank line).
    Line(String),
    Table(Table),
}

/// A table: a header and rows of cells.
#[derive(Debug, Default)]
pub struct Table {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    /// An empty table with this header.
    pub fn new<S: ToString>(header: impl IntoIterator<Item = S>) -> Table {
        Table { header: header.into_iter().map(|h| h.to_string()).collect(), rows: Vec::new() }
    }

    /// Adds a row.
    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }
}

impl Page {
    /// Adds a line.
    pub fn line(&mut self, text: impl Into<String>) {
        self.blocks.push(Block::Line(text.into()));
    }

    /// Adds a table.
    pub fn table(&mut self, table: Table) {
        self.blocks.push(Block::Table(table));
    }

    /// Writes the page for a terminal: lines as they are, tables drawn with box characters.
    fn write_text(&self) {
        for block in &self.blocks {
            match block {
                Block::Line(text) => println!("{text}"),
                Block::Table(t) => {
                    let mut table = comfy_table::Table::new();
                    table
                        .load_preset(UTF8_FULL_CONDENSED)
                        .set_content_arrangement(ContentArrangement::Dynamic)
                        .set_header(&t.header);
                    for row in &t.rows {
                        table.add_row(row);
                    }
                    println!("{table}");
                }
            }
        }
    }
}
