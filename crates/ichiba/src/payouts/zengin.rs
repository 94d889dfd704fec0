//! The Zengin 総合振込 file (種別コード 21): one header record (1), a data record (2) per payout, a
//! trailer (8) with the count and total, and an end record (9), each 120 bytes, CRLF-terminated,
//! in Shift_JIS.
//!
//! The record layout is written by the `zengin-fmt` crate (`general_transfer`), which validates
//! every field's width and the trailer's totals. It encodes text as JIS X 0201 8-bit; for the
//! characters a Zengin name may hold (digits, upper-case letters, space, `( ) . - / ,`, `｢ ｣` and
//! half-width katakana) those bytes are exactly Shift_JIS's single-byte range, which the tests
//! check by decoding the golden file with `encoding_rs`.

use chrono::{Datelike, NaiveDate};
use zengin_fmt::general_transfer::{Detail, End, File, Header, Trailer};
use zengin_fmt::{CodeDivision, Encoding, FileType, LineEnding, OutputFormat};

use super::bank::{self, AccountNumber, AccountType, BankCode, BranchCode, HolderKana};
use crate::config::{ConfigError, ZenginSettings};

/// Width of the requester name field (委託者名).
pub const REQUESTER_NAME_CHARS: usize = 40;
/// Width of bank and branch name fields.
pub const NAME_CHARS: usize = 15;

/// The paying side (委託者) from the operator's configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Requester {
    /// 委託者コード: 10 digits assigned by the paying bank.
    pub code: String,
    /// 委託者名 in Zengin kana (cut to 40 characters).
    pub name: String,
    /// 仕向銀行.
    pub bank_code: BankCode,
    /// 仕向銀行名 in Zengin kana (cut to 15).
    pub bank_name: String,
    /// 仕向支店.
    pub branch_code: BranchCode,
    /// 仕向支店名 in Zengin kana (cut to 15).
    pub branch_name: String,
    /// 預金種目 of the paying account.
    pub account_type: AccountType,
    /// 口座番号 of the paying account.
    pub account_number: AccountNumber,
}

impl Requester {
    /// The checked requester (the paying side) from the `ICHIBA_ZENGIN_*` settings of a Zengin file: code of 10 digits, a name a Zengin file can carry,
    /// a bank and branch that exist in the bundled data, a valid account.
    ///
    /// Errors: [`ConfigError::Zengin`] naming the setting.
    pub fn from_settings(settings: &ZenginSettings) -> Result<Requester, ConfigError> {
        let bad = |setting: &'static str, why: String| ConfigError::Zengin { setting, why };
        let code = settings.requester_code.trim();
        if code.len() != 10 || !code.chars().all(|c| c.is_ascii_digit()) {
            return Err(bad(
                "ICHIBA_ZENGIN_REQUESTER_CODE",
                "must be 10 digits".into(),
            ));
        }
        let name = bank::to_zengin_kana(&settings.requester_name).map_err(|chars| {
            bad(
                "ICHIBA_ZENGIN_REQUESTER_NAME",
                format!("cannot carry {chars:?} in a Zengin file"),
            )
        })?;
        if name.is_empty() || name.chars().count() > REQUESTER_NAME_CHARS {
            return Err(bad(
                "ICHIBA_ZENGIN_REQUESTER_NAME",
                format!("must be 1–{REQUESTER_NAME_CHARS} half-width characters"),
            ));
        }
        let bank_code = BankCode::parse(&settings.bank_code)
            .map_err(|e| bad("ICHIBA_ZENGIN_BANK_CODE", e.message))?;
        let branch_code = BranchCode::parse(&settings.branch_code)
            .map_err(|e| bad("ICHIBA_ZENGIN_BRANCH_CODE", e.message))?;
        let data = |e: bank::DirectoryError| bad("ICHIBA_ZENGIN_BANK_CODE", e.to_string());
        let bank = bank::lookup_bank(&bank_code)
            .map_err(data)?
            .ok_or_else(|| bad("ICHIBA_ZENGIN_BANK_CODE", "unknown bank code".into()))?;
        let branch = bank::lookup_branch(bank, &branch_code)
            .map_err(data)?
            .ok_or_else(|| bad("ICHIBA_ZENGIN_BRANCH_CODE", "unknown branch code".into()))?;
        Ok(Requester {
            code: code.to_string(),
            name,
            bank_name: bank::to_zengin_kana_lossy(&bank.kana, NAME_CHARS),
            branch_name: bank::to_zengin_kana_lossy(&branch.kana, NAME_CHARS),
            bank_code,
            branch_code,
            account_type: AccountType::parse(settings.account_type)
                .map_err(|e| bad("ICHIBA_ZENGIN_ACCOUNT_TYPE", e.message))?,
            account_number: AccountNumber::parse(&settings.account_number)
                .map_err(|e| bad("ICHIBA_ZENGIN_ACCOUNT_NUMBER", e.message))?,
        })
    }
}

/// One transfer (a data record).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    /// 被仕向銀行.
    pub bank_code: BankCode,
    /// 被仕向銀行名 in Zengin kana (cut to 15).
    pub bank_name: String,
    /// 被仕向支店.
    pub branch_code: BranchCode,
    /// 被仕向支店名 in Zengin kana (cut to 15).
    pub branch_name: String,
    /// 預金種目.
    pub account_type: AccountType,
    /// 口座番号.
    pub account_number: AccountNumber,
    /// 受取人名.
    pub holder: HolderKana,
    /// 振込金額 (the net of the payout).
    pub amount_yen: i64,
}

/// Why a file could not be written.
#[derive(Debug, thiserror::Error)]
pub enum ZenginError {
    /// A file needs at least one transfer.
    #[error("a Zengin file needs at least one transfer")]
    Empty,
    /// An amount is not 1–9,999,999,999 yen, or the total does not fit 12 digits.
    #[error("amount out of range: {0}")]
    Amount(i64),
    /// A field broke the layout (a bug in our conversion: every input is validated before).
    #[error("Zengin layout: {0}")]
    Layout(#[from] zengin_fmt::Error),
}

fn cut(s: &str, n: usize) -> String {
    s.chars().take(n).collect()
}

/// Writes the 総合振込 file for `pay_date` (振込指定日, written MMDD).
///
/// Errors: [`ZenginError`] for an empty batch, an amount out of range, or a field that does not fit.
pub fn write(
    requester: &Requester,
    pay_date: NaiveDate,
    lines: &[Line],
) -> Result<Vec<u8>, ZenginError> {
    if lines.is_empty() {
        return Err(ZenginError::Empty);
    }
    let mut details = Vec::with_capacity(lines.len());
    let mut total: u64 = 0;
    for l in lines {
        let amount = u64::try_from(l.amount_yen)
            .ok()
            .filter(|a| (1..=9_999_999_999).contains(a))
            .ok_or(ZenginError::Amount(l.amount_yen))?;
        total = total
            .checked_add(amount)
            .filter(|t| *t <= 999_999_999_999)
            .ok_or(ZenginError::Amount(l.amount_yen))?;
        details.push(Detail {
            bank_code: l.bank_code.as_str().to_string(),
            bank_name: cut(&l.bank_name, NAME_CHARS),
            branch_code: l.branch_code.as_str().to_string(),
            branch_name: cut(&l.branch_name, NAME_CHARS),
            clearing_house_number: String::new(),
            account_type: l.account_type.code(),
            account_number: l.account_number.as_str().to_string(),
            recipient_name: l.holder.as_str().to_string(),
            amount,
            // 新規コード 0: その他 (neither a first transfer nor a changed account).
            new_code: "0".into(),
            customer_code1: String::new(),
            customer_code2: String::new(),
            edi_info: String::new(),
            transfer_designated_type: String::new(),
            identification: String::new(),
        });
    }
    let file = File {
        header: Header {
            kind_code: 21,
            code_division: CodeDivision::Jis,
            remitter_code: requester.code.clone(),
            remitter_name: cut(&requester.name, REQUESTER_NAME_CHARS),
            transfer_date: format!("{:02}{:02}", pay_date.month(), pay_date.day()),
            bank_code: requester.bank_code.as_str().to_string(),
            bank_name: cut(&requester.bank_name, NAME_CHARS),
            branch_code: requester.branch_code.as_str().to_string(),
            branch_name: cut(&requester.branch_name, NAME_CHARS),
            account_type: requester.account_type.code(),
            account_number: requester.account_number.as_str().to_string(),
        },
        trailer: Trailer {
            total_count: u32::try_from(details.len()).map_err(|_| ZenginError::Amount(0))?,
            total_amount: total,
        },
        details,
        end: End,
    };
    let format = OutputFormat {
        encoding: Encoding::Jis,
        line_ending: LineEnding::Crlf,
        eof: false,
    };
    Ok(zengin_fmt::to_bytes_as(
        &file,
        FileType::GeneralTransfer,
        format,
    )?)
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_demo_zengin_requester_is_valid_and_bad_settings_name_their_variable() {
        let r = Requester::from_settings(&ZenginSettings::default()).unwrap();
        assert_eq!(r.name, "ｲﾁﾊﾞ ﾃﾞﾓ");
        assert_eq!(r.bank_name, "ﾐｽﾞﾎ");
        let bad = ZenginSettings {
            bank_code: "0000".into(),
            ..ZenginSettings::default()
        };
        let line = Requester::from_settings(&bad).unwrap_err().to_string();
        assert!(line.starts_with("ICHIBA_ZENGIN_BANK_CODE"), "{line}");
        let bad = ZenginSettings {
            requester_name: "山田".into(),
            ..ZenginSettings::default()
        };
        assert!(Requester::from_settings(&bad).is_err());
    }

    use super::*;

    fn requester() -> Requester {
        Requester {
            code: "1234567890".into(),
            name: HolderKana::parse("カ)イチバ").unwrap().as_str().into(),
            bank_code: BankCode::parse("0001").unwrap(),
            bank_name: "ﾐｽﾞﾎ".into(),
            branch_code: BranchCode::parse("001").unwrap(),
            branch_name: "ﾄｳｷﾖｳ".into(),
            account_type: AccountType::Ordinary,
            account_number: AccountNumber::parse("1234567").unwrap(),
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn line(
        bank: &str,
        bname: &str,
        branch: &str,
        brname: &str,
        t: i64,
        n: &str,
        holder: &str,
        yen: i64,
    ) -> Line {
        Line {
            bank_code: BankCode::parse(bank).unwrap(),
            bank_name: bname.into(),
            branch_code: BranchCode::parse(branch).unwrap(),
            branch_name: brname.into(),
            account_type: AccountType::parse(t).unwrap(),
            account_number: AccountNumber::parse(n).unwrap(),
            holder: HolderKana::parse(holder).unwrap(),
            amount_yen: yen,
        }
    }

    /// Builds a 120-byte record from (start, bytes) fields written by hand from the published
    /// 総合振込 layout; everything not named is a space (ダミー).
    fn record(fields: &[(usize, &[u8])]) -> Vec<u8> {
        let mut r = vec![b' '; 120];
        for (start, bytes) in fields {
            r[*start..*start + bytes.len()].copy_from_slice(bytes);
        }
        r
    }

    #[test]
    fn a_batch_of_three_payouts_matches_the_published_layout_byte_for_byte() {
        let lines = [
            line(
                "0005",
                "ﾐﾂﾋﾞｼﾕ-ｴﾌｼﾞｴｲ",
                "001",
                "ﾎﾝﾃﾝ",
                1,
                "7654321",
                "ヤマダ タロウ",
                1_840,
            ),
            line(
                "9900",
                "ﾕｳﾁﾖ",
                "018",
                "ｾﾞﾛｲﾁﾊﾁ",
                1,
                "1234567",
                "株式会社イチバ",
                50_000,
            ),
            line(
                "0009",
                "ﾐﾂｲｽﾐﾄﾓ",
                "100",
                "ｼﾝｼﾞﾕｸ",
                4,
                "42",
                "スズキ ハナコ",
                123_456,
            ),
        ];
        let pay_date = NaiveDate::from_ymd_opt(2026, 12, 21).unwrap();
        let bytes = write(&requester(), pay_date, &lines).unwrap();

        // Half-width katakana in Shift_JIS: ｱ = 0xB1 … ﾝ = 0xDD, ﾞ = 0xDE, ﾟ = 0xDF.
        // ｶ)ｲﾁﾊﾞ
        let requester_name: &[u8] = &[0xB6, b')', 0xB2, 0xC1, 0xCA, 0xDE];
        // ﾐｽﾞﾎ / ﾄｳｷﾖｳ
        let mizuho: &[u8] = &[0xD0, 0xBD, 0xDE, 0xCE];
        let tokyo: &[u8] = &[0xC4, 0xB3, 0xB7, 0xD6, 0xB3];
        let mut expected = Vec::new();
        // Header: 区分1 種別21 コード区分0 委託者コード(10) 委託者名(40) 振込指定日MMDD
        // 仕向銀行番号(4) 銀行名(15) 支店番号(3) 支店名(15) 預金種目(1) 口座番号(7) ダミー(17).
        expected.extend(record(&[
            (0, b"1"),
            (1, b"21"),
            (3, b"0"),
            (4, b"1234567890"),
            (14, requester_name),
            (54, b"1221"),
            (58, b"0001"),
            (62, mizuho),
            (77, b"001"),
            (80, tokyo),
            (95, b"1"),
            (96, b"1234567"),
        ]));
        expected.extend(b"\r\n");
        // Data: 区分2 銀行番号(4) 銀行名(15) 支店番号(3) 支店名(15) 手形交換所番号(4)
        // 預金種目(1) 口座番号(7) 受取人名(30) 振込金額(10) 新規コード(1) 顧客コード1(10)
        // 顧客コード2(10) 振込指定区分(1) 識別表示(1) ダミー(7).
        // ﾐﾂﾋﾞｼﾕ-ｴﾌｼﾞｴｲ / ﾎﾝﾃﾝ / ﾔﾏﾀﾞ ﾀﾛｳ
        let mufg: &[u8] = &[
            0xD0, 0xC2, 0xCB, 0xDE, 0xBC, 0xD5, b'-', 0xB4, 0xCC, 0xBC, 0xDE, 0xB4, 0xB2,
        ];
        let honten: &[u8] = &[0xCE, 0xDD, 0xC3, 0xDD];
        let yamada: &[u8] = &[0xD4, 0xCF, 0xC0, 0xDE, b' ', 0xC0, 0xDB, 0xB3];
        expected.extend(record(&[
            (0, b"2"),
            (1, b"0005"),
            (5, mufg),
            (20, b"001"),
            (23, honten),
            (42, b"1"),
            (43, b"7654321"),
            (50, yamada),
            (80, b"0000001840"),
            (90, b"0"),
        ]));
        expected.extend(b"\r\n");
        // ﾕｳﾁﾖ / ｾﾞﾛｲﾁﾊﾁ / ｶ)ｲﾁﾊﾞ
        let yucho: &[u8] = &[0xD5, 0xB3, 0xC1, 0xD6];
        let zero18: &[u8] = &[0xBE, 0xDE, 0xDB, 0xB2, 0xC1, 0xCA, 0xC1];
        expected.extend(record(&[
            (0, b"2"),
            (1, b"9900"),
            (5, yucho),
            (20, b"018"),
            (23, zero18),
            (42, b"1"),
            (43, b"1234567"),
            (50, requester_name),
            (80, b"0000050000"),
            (90, b"0"),
        ]));
        expected.extend(b"\r\n");
        // ﾐﾂｲｽﾐﾄﾓ / ｼﾝｼﾞﾕｸ / ｽｽﾞｷ ﾊﾅｺ — 貯蓄 (4), number 42 padded to 0000042.
        let smbc: &[u8] = &[0xD0, 0xC2, 0xB2, 0xBD, 0xD0, 0xC4, 0xD3];
        let shinjuku: &[u8] = &[0xBC, 0xDD, 0xBC, 0xDE, 0xD5, 0xB8];
        let suzuki: &[u8] = &[0xBD, 0xBD, 0xDE, 0xB7, b' ', 0xCA, 0xC5, 0xBA];
        expected.extend(record(&[
            (0, b"2"),
            (1, b"0009"),
            (5, smbc),
            (20, b"100"),
            (23, shinjuku),
            (42, b"4"),
            (43, b"0000042"),
            (50, suzuki),
            (80, b"0000123456"),
            (90, b"0"),
        ]));
        expected.extend(b"\r\n");
        // Trailer: 区分8 合計件数(6) 合計金額(12) ダミー(101). 1,840 + 50,000 + 123,456 = 175,296.
        expected.extend(record(&[(0, b"8"), (1, b"000003"), (7, b"000000175296")]));
        expected.extend(b"\r\n");
        // End: 区分9 ダミー(119).
        expected.extend(record(&[(0, b"9")]));
        expected.extend(b"\r\n");

        assert_eq!(bytes.len(), 6 * 122);
        for (i, (got, want)) in bytes.chunks(122).zip(expected.chunks(122)).enumerate() {
            assert_eq!(got, want, "record {i} differs");
        }
        assert_eq!(bytes, expected);

        // The bytes are Shift_JIS: decoding gives the half-width names back without errors.
        let (text, _, had_errors) = encoding_rs::SHIFT_JIS.decode(&bytes);
        assert!(!had_errors);
        assert!(text.contains("ｶ)ｲﾁﾊﾞ"));
        assert!(text.contains("ﾔﾏﾀﾞ ﾀﾛｳ"));
        assert_eq!(text.lines().count(), 6);
    }

    #[test]
    fn long_names_are_cut_to_their_fields_and_bad_amounts_are_refused() {
        let mut l = line("0001", "ﾐｽﾞﾎ", "001", "ﾄｳｷﾖｳ", 1, "1", "ア", 1);
        l.bank_name = "ｱ".repeat(20);
        let bytes = write(
            &requester(),
            NaiveDate::from_ymd_opt(2026, 1, 5).unwrap(),
            &[l.clone()],
        )
        .unwrap();
        assert_eq!(&bytes[122 + 5..122 + 20], &[0xB1u8; 15]);
        assert_eq!(&bytes[54..58], b"0105");
        l.amount_yen = 0;
        assert!(matches!(
            write(
                &requester(),
                NaiveDate::from_ymd_opt(2026, 1, 5).unwrap(),
                &[l]
            ),
            Err(ZenginError::Amount(0))
        ));
        assert!(matches!(
            write(
                &requester(),
                NaiveDate::from_ymd_opt(2026, 1, 5).unwrap(),
                &[]
            ),
            Err(ZenginError::Empty)
        ));
    }
}
