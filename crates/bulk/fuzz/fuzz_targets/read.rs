//! Fuzz target: arbitrary bytes through the reader, both template parsers, the template
//! auto-detection and the Magento table reader. Besides "never panics", it checks the
//! round trip: whatever rows a template accepts must write out and read back unchanged.

#![no_main]

use libfuzzer_sys::fuzz_target;
use rolecall_bulk::{
    write_console, write_plain, ConsoleReader, MagentoExport, MagentoTable, PlainReader,
    PlanReader, WriteOptions,
};

fuzz_target!(|data: &[u8]| {
    if let Ok(reader) = PlanReader::open(data) {
        for plan in reader {
            let _ = plan;
        }
    }

    if let Ok(reader) = ConsoleReader::open(data) {
        let mut rows: Vec<_> = reader.filter_map(Result::ok).map(|r| r.row).collect();
        let mut out = Vec::new();
        let written = write_console(&rows, &mut out, WriteOptions::default());
        assert!(
            written.is_ok(),
            "accepted console rows must be writable: {written:?}"
        );
        {
            let back: Option<Vec<_>> = ConsoleReader::open(&out[..])
                .map(|r| r.map(|x| x.map(|x| x.row)).collect::<Result<Vec<_>, _>>())
                .ok()
                .and_then(Result::ok);
            rows.sort_by_key(|r| r.key());
            assert_eq!(back, Some(rows), "accepted console rows must round-trip");
        }
    }

    if let Ok(reader) = PlainReader::open(data) {
        let mut rows: Vec<_> = reader.filter_map(Result::ok).map(|r| r.row).collect();
        let mut out = Vec::new();
        let written = write_plain(&rows, &mut out, WriteOptions::default());
        assert!(
            written.is_ok(),
            "accepted plain rows must be writable: {written:?}"
        );
        {
            let back: Option<Vec<_>> = PlainReader::open(&out[..])
                .map(|r| r.map(|x| x.map(|x| x.row)).collect::<Result<Vec<_>, _>>())
                .ok()
                .and_then(Result::ok);
            rows.sort_by_key(|r| r.key());
            assert_eq!(back, Some(rows), "accepted plain rows must round-trip");
        }
    }

    let mut export = MagentoExport::new();
    for table in [
        MagentoTable::AdminUser,
        MagentoTable::AuthorizationRole,
        MagentoTable::AuthorizationRule,
        MagentoTable::StoreWebsite,
        MagentoTable::StoreGroup,
        MagentoTable::Store,
    ] {
        let _ = export.read(table, data);
    }
    let _ = export.plan();
});
