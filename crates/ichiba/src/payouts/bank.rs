//! Bank accounts as a Zengin transfer needs them: parsed bank and branch codes checked against the
//! bundled Zengin code data, account type and number, the holder's name converted to the
//! half-width katakana a Zengin record carries (with the standard abbreviations of company forms),
//! and Japan Post Bank (ゆうちょ銀行) 記号・番号 converted to branch and account number.
//!
//! The bank and branch names come from `reference/zengin/banks.tsv`, generated from the MIT-licensed
//! `zengin-code` package on PyPI by `scripts/refresh-zengin.sh`, embedded and parsed once.

use std::collections::HashMap;
use std::sync::LazyLock;

use super::kana::abbreviate_company_forms;
pub use super::kana::{to_zengin_kana, to_zengin_kana_lossy};
use crate::error::{FieldError, FieldErrors};

static BANKS_TSV: &str = include_str!("../../reference/zengin/banks.tsv");

/// Japan Post Bank's bank code.
pub const YUCHO_BANK_CODE: &str = "9900";

/// Largest holder name a Zengin data record holds (bytes = half-width characters).
pub const HOLDER_MAX_CHARS: usize = 30;

fn field_error(field: &str, code: &'static str, message: impl Into<String>) -> FieldError {
    FieldError {
        field: field.into(),
        code,
        message: message.into(),
    }
}

/// ASCII digits from user input: trimmed, full-width digits (０–９) folded to ASCII. `None` when
/// anything else is left.
fn digits(input: &str) -> Option<String> {
    let s: String = input
        .trim()
        .chars()
        .map(|c| match c {
            '０'..='９' => char::from_u32(c as u32 - '０' as u32 + '0' as u32).unwrap_or(c),
            _ => c,
        })
        .collect();
    (!s.is_empty() && s.chars().all(|c| c.is_ascii_digit())).then_some(s)
}

/// A bank code (金融機関コード): exactly four digits. Existence is checked by [`lookup_bank`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BankCode(String);

impl BankCode {
    /// Parses four digits. Errors name the field `bank_code`.
    pub fn parse(input: &str) -> Result<BankCode, FieldError> {
        match digits(input) {
            Some(s) if s.len() == 4 => Ok(BankCode(s)),
            _ => Err(field_error(
                "bank_code",
                "invalid_format",
                "金融機関コードは4桁の数字で入力してください。",
            )),
        }
    }

    /// The four digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A branch code (支店コード): exactly three digits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BranchCode(String);

impl BranchCode {
    /// Parses three digits. Errors name the field `branch_code`.
    pub fn parse(input: &str) -> Result<BranchCode, FieldError> {
        match digits(input) {
            Some(s) if s.len() == 3 => Ok(BranchCode(s)),
            _ => Err(field_error(
                "branch_code",
                "invalid_format",
                "支店コードは3桁の数字で入力してください。",
            )),
        }
    }

    /// The three digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The account type (預金種目) as a Zengin record codes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccountType {
    /// 普通 (1).
    Ordinary,
    /// 当座 (2).
    Checking,
    /// 貯蓄 (4).
    Savings,
}

impl AccountType {
    /// Parses the Zengin code 1, 2 or 4. Errors name the field `account_type`.
    pub fn parse(code: i64) -> Result<AccountType, FieldError> {
        match code {
            1 => Ok(AccountType::Ordinary),
            2 => Ok(AccountType::Checking),
            4 => Ok(AccountType::Savings),
            _ => Err(field_error(
                "account_type",
                "invalid_choice",
                "預金種目は 1（普通）、2（当座）、4（貯蓄）のいずれかを指定してください。",
            )),
        }
    }

    /// The Zengin code.
    pub fn code(self) -> u8 {
        match self {
            AccountType::Ordinary => 1,
            AccountType::Checking => 2,
            AccountType::Savings => 4,
        }
    }

    /// The Japanese name.
    pub fn name(self) -> &'static str {
        match self {
            AccountType::Ordinary => "普通",
            AccountType::Checking => "当座",
            AccountType::Savings => "貯蓄",
        }
    }
}

/// An account number: 1–7 digits as typed, stored zero-padded to 7.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountNumber(String);

impl AccountNumber {
    /// Parses 1–7 digits and pads them to 7. Errors name the field `account_number`.
    pub fn parse(input: &str) -> Result<AccountNumber, FieldError> {
        match digits(input) {
            Some(s) if s.len() <= 7 => Ok(AccountNumber(format!("{s:0>7}"))),
            _ => Err(field_error(
                "account_number",
                "invalid_format",
                "口座番号は7桁以内の数字で入力してください。",
            )),
        }
    }

    /// The seven digits (only for the export; show [`AccountNumber::masked`] elsewhere).
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The number as shown to people: `****567`.
    pub fn masked(&self) -> String {
        mask(&self.0)
    }
}

/// Masks a stored account number: four asterisks and the last three digits.
pub fn mask(number: &str) -> String {
    let tail: String = number
        .chars()
        .rev()
        .take(3)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    format!("****{tail}")
}

/// The holder's name (口座名義) in the half-width form a Zengin record carries: half-width
/// katakana (large kana only), upper-case letters, digits, spaces and `( ) . - / ,`, at most 30
/// characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HolderKana(String);

impl HolderKana {
    /// Converts what the user wrote (full- or half-width katakana, hiragana, company forms such as
    /// 株式会社 or (株)) into Zengin kana. Errors name the field `holder_kana` and list the
    /// characters a Zengin file cannot carry.
    pub fn parse(input: &str) -> Result<HolderKana, FieldError> {
        let bad = |code, message: String| field_error("holder_kana", code, message);
        let converted = to_zengin_kana(&abbreviate_company_forms(input)).map_err(|chars| {
            let list: Vec<String> = chars.iter().map(|c| format!("「{c}」")).collect();
            bad(
                "invalid_characters",
                format!(
                    "口座名義に振込データで使えない文字が含まれています: {}。カタカナ、英大文字、数字、スペースと ( ) . - / , で、通帳どおりに入力してください。",
                    list.join("")
                ),
            )
        })?;
        if converted.is_empty() {
            return Err(bad(
                "required",
                "口座名義をカタカナで入力してください。".into(),
            ));
        }
        if converted.chars().count() > HOLDER_MAX_CHARS {
            return Err(bad(
                "too_long",
                format!(
                    "口座名義が長すぎます（半角{HOLDER_MAX_CHARS}文字まで。濁点・半濁点も1文字と数えます）。"
                ),
            ));
        }
        Ok(HolderKana(converted))
    }

    /// Wraps a name read back from storage (already converted when it was stored).
    pub fn from_stored(s: String) -> HolderKana {
        HolderKana(s)
    }

    /// The half-width name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Converts a Japan Post Bank 記号・番号 of an ordinary savings account (通常貯金, 記号 starting
/// with 1) into the branch code and account number a Zengin transfer uses, per Japan Post Bank's
/// published rule: branch = the 2nd and 3rd digits of 記号 followed by 8 (店名 〇一八 for 記号
/// 1x01x…), type 普通, number = 番号 without its final 1, zero-padded to 7 digits.
///
/// Errors: field errors on `kigou` and `bangou`.
pub fn yucho_to_zengin(
    kigou: &str,
    bangou: &str,
) -> Result<(BranchCode, AccountType, AccountNumber), FieldErrors> {
    let mut errors = FieldErrors::new();
    let kigou = match digits(kigou) {
        Some(k) if k.len() == 5 && k.starts_with('1') => Some(k),
        Some(k) if k.len() == 5 && k.starts_with('0') => {
            errors.add(
                "kigou",
                "unsupported",
                "記号が0で始まる振替口座には振り込めません。記号が1で始まる通常貯金口座を登録してください。",
            );
            None
        }
        _ => {
            errors.add(
                "kigou",
                "invalid_format",
                "記号は1で始まる5桁の数字で入力してください。",
            );
            None
        }
    };
    let bangou = match digits(bangou) {
        Some(b) if b.len() >= 2 && b.len() <= 8 && b.ends_with('1') => Some(b),
        Some(b) if b.len() >= 2 && b.len() <= 8 => {
            errors.add(
                "bangou",
                "invalid_format",
                "通常貯金の番号は末尾が1の数字です。通帳の番号をご確認ください。",
            );
            None
        }
        _ => {
            errors.add(
                "bangou",
                "invalid_format",
                "番号は8桁以内の数字で入力してください。",
            );
            None
        }
    };
    match (kigou, bangou) {
        (Some(k), Some(b)) if errors.is_empty() => {
            let branch = BranchCode(format!("{}8", &k[1..3]));
            let number = AccountNumber(format!("{:0>7}", &b[..b.len() - 1]));
            Ok((branch, AccountType::Ordinary, number))
        }
        _ => Err(errors),
    }
}

/// A bank of the bundled Zengin data.
#[derive(Debug, Clone)]
pub struct Bank {
    /// Name (みずほ).
    pub name: String,
    /// Name in katakana as in the data (ミズホ).
    pub kana: String,
    branches: HashMap<String, Branch>,
}

/// A branch of the bundled Zengin data.
#[derive(Debug, Clone)]
pub struct Branch {
    /// Name (東京営業部).
    pub name: String,
    /// Name in katakana as in the data.
    pub kana: String,
}

type Directory = HashMap<String, Bank>;

static DIRECTORY: LazyLock<Result<Directory, String>> =
    LazyLock::new(|| parse_directory(BANKS_TSV));

fn parse_directory(text: &str) -> Result<Directory, String> {
    let mut banks: Directory = HashMap::new();
    let mut current: Option<String> = None;
    for (n, line) in text.lines().enumerate() {
        if line.starts_with('#') || line.is_empty() {
            continue;
        }
        let bad = || format!("line {}: expected CODE<TAB>NAME<TAB>KANA", n + 1);
        if let Some(rest) = line.strip_prefix('\t') {
            let mut f = rest.split('\t');
            let (Some(code), Some(name), Some(kana)) = (f.next(), f.next(), f.next()) else {
                return Err(bad());
            };
            let bank = current
                .as_ref()
                .and_then(|c| banks.get_mut(c))
                .ok_or_else(|| format!("line {}: branch before any bank", n + 1))?;
            bank.branches.insert(
                code.to_string(),
                Branch {
                    name: name.to_string(),
                    kana: kana.to_string(),
                },
            );
        } else {
            let mut f = line.split('\t');
            let (Some(code), Some(name), Some(kana)) = (f.next(), f.next(), f.next()) else {
                return Err(bad());
            };
            banks.insert(
                code.to_string(),
                Bank {
                    name: name.to_string(),
                    kana: kana.to_string(),
                    branches: HashMap::new(),
                },
            );
            current = Some(code.to_string());
        }
    }
    if banks.is_empty() {
        return Err("no banks".into());
    }
    Ok(banks)
}

/// The bundled bank and branch data is unreadable (a broken refresh; caught by the unit tests).
#[derive(Debug, Clone, thiserror::Error)]
#[error("the bundled Zengin code data is unreadable: {0}")]
pub struct DirectoryError(String);

fn directory() -> Result<&'static Directory, DirectoryError> {
    DIRECTORY.as_ref().map_err(|e| DirectoryError(e.clone()))
}

/// The bank with this code, if the bundled data has it.
pub fn lookup_bank(code: &BankCode) -> Result<Option<&'static Bank>, DirectoryError> {
    Ok(directory()?.get(code.as_str()))
}

/// The branch of a bank, if the bundled data has it.
pub fn lookup_branch(
    bank: &'static Bank,
    code: &BranchCode,
) -> Result<Option<&'static Branch>, DirectoryError> {
    Ok(bank.branches.get(code.as_str()))
}

/// A bank account checked against the Zengin data, ready to store.
#[derive(Debug, Clone)]
pub struct BankAccount {
    /// Bank code.
    pub bank_code: BankCode,
    /// Branch code.
    pub branch_code: BranchCode,
    /// Account type.
    pub account_type: AccountType,
    /// Account number, seven digits.
    pub account_number: AccountNumber,
    /// Holder name, Zengin kana.
    pub holder: HolderKana,
}

/// A bank account as the user typed it. Japan Post Bank accounts may give `kigou` and `bangou`
/// instead of branch, type and number.
#[derive(Debug, Clone, Default)]
pub struct BankAccountInput {
    /// 4 digits.
    pub bank_code: Option<String>,
    /// 3 digits.
    pub branch_code: Option<String>,
    /// 1, 2 or 4.
    pub account_type: Option<i64>,
    /// 1–7 digits.
    pub account_number: Option<String>,
    /// ゆうちょ 記号 (5 digits starting with 1).
    pub kigou: Option<String>,
    /// ゆうちょ 番号 (up to 8 digits).
    pub bangou: Option<String>,
    /// Holder name in katakana.
    pub holder_kana: Option<String>,
}

/// Why a bank account was refused.
#[derive(Debug, thiserror::Error)]
pub enum BankAccountError {
    /// Field errors, all of them at once.
    #[error("invalid bank account")]
    Invalid(FieldErrors),
    /// The bundled data is unreadable.
    #[error(transparent)]
    Directory(#[from] DirectoryError),
}

/// Parses and checks a bank account: every field, the bank and branch against the Zengin data,
/// ゆうちょ 記号・番号 converted. Reports every problem at once.
pub fn parse_account(input: &BankAccountInput) -> Result<BankAccount, BankAccountError> {
    let mut errors = FieldErrors::new();
    let required = |errors: &mut FieldErrors, field: &str, label: &str| {
        errors.add(field, "required", format!("{label}を入力してください。"));
    };
    let bank_code = match &input.bank_code {
        Some(s) => errors.take(BankCode::parse(s)),
        None => {
            required(&mut errors, "bank_code", "金融機関コード");
            None
        }
    };
    let holder = match &input.holder_kana {
        Some(s) => errors.take(HolderKana::parse(s)),
        None => {
            required(&mut errors, "holder_kana", "口座名義（カナ）");
            None
        }
    };
    let bank = match &bank_code {
        Some(code) => match lookup_bank(code)? {
            Some(b) => Some(b),
            None => {
                errors.add(
                    "bank_code",
                    "unknown_bank",
                    format!(
                        "金融機関コード {} の金融機関が見つかりません。",
                        code.as_str()
                    ),
                );
                None
            }
        },
        None => None,
    };
    let is_yucho = bank_code.as_ref().map(BankCode::as_str) == Some(YUCHO_BANK_CODE);
    let (branch_code, account_type, account_number) =
        if is_yucho && (input.kigou.is_some() || input.bangou.is_some()) {
            match yucho_to_zengin(
                input.kigou.as_deref().unwrap_or(""),
                input.bangou.as_deref().unwrap_or(""),
            ) {
                Ok((b, t, n)) => (Some(b), Some(t), Some(n)),
                Err(e) => {
                    for f in e.as_slice() {
                        errors.add(f.field.clone(), f.code, f.message.clone());
                    }
                    (None, None, None)
                }
            }
        } else {
            let branch = match &input.branch_code {
                Some(s) => errors.take(BranchCode::parse(s)),
                None => {
                    required(&mut errors, "branch_code", "支店コード");
                    None
                }
            };
            let t = match input.account_type {
                Some(t) => errors.take(AccountType::parse(t)),
                None => {
                    required(&mut errors, "account_type", "預金種目");
                    None
                }
            };
            let n = match &input.account_number {
                Some(s) => errors.take(AccountNumber::parse(s)),
                None => {
                    required(&mut errors, "account_number", "口座番号");
                    None
                }
            };
            (branch, t, n)
        };
    if let (Some(bank), Some(branch)) = (bank, &branch_code)
        && lookup_branch(bank, branch)?.is_none()
    {
        let field = if is_yucho && input.kigou.is_some() {
            "kigou"
        } else {
            "branch_code"
        };
        errors.add(
            field,
            "unknown_branch",
            format!(
                "{}銀行に支店コード {} の支店が見つかりません。",
                bank.name,
                branch.as_str()
            ),
        );
    }
    match (bank_code, branch_code, account_type, account_number, holder) {
        (
            Some(bank_code),
            Some(branch_code),
            Some(account_type),
            Some(account_number),
            Some(holder),
        ) if errors.is_empty() => Ok(BankAccount {
            bank_code,
            branch_code,
            account_type,
            account_number,
            holder,
        }),
        _ => Err(BankAccountError::Invalid(errors)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_numbers_parse_strictly_and_numbers_are_padded_and_masked() {
        assert_eq!(BankCode::parse("０００１").unwrap().as_str(), "0001");
        assert!(BankCode::parse("001").is_err());
        assert!(BankCode::parse("00a1").is_err());
        assert!(BranchCode::parse("1234").is_err());
        assert_eq!(AccountNumber::parse("1234").unwrap().as_str(), "0001234");
        assert!(AccountNumber::parse("12345678").is_err());
        assert!(AccountNumber::parse("").is_err());
        assert_eq!(AccountNumber::parse("1234567").unwrap().masked(), "****567");
        assert_eq!(AccountType::parse(4).unwrap(), AccountType::Savings);
        assert!(AccountType::parse(3).is_err());
    }

    #[test]
    fn yucho_kigou_bangou_become_branch_and_account_number() {
        // Japan Post Bank's own example: 記号 10120 番号 12345671 → 〇一八 (018) 普通 1234567.
        let (branch, t, n) = yucho_to_zengin("10120", "12345671").unwrap();
        assert_eq!(
            (branch.as_str(), t, n.as_str()),
            ("018", AccountType::Ordinary, "1234567")
        );
        let (branch, _, n) = yucho_to_zengin("14390", "3456781").unwrap();
        assert_eq!((branch.as_str(), n.as_str()), ("438", "0345678"));
        let e = yucho_to_zengin("20120", "12345670").unwrap_err();
        let fields: Vec<&str> = e.as_slice().iter().map(|f| f.field.as_str()).collect();
        assert_eq!(fields, ["kigou", "bangou"]);
        assert_eq!(
            yucho_to_zengin("00120", "123451").unwrap_err().as_slice()[0].code,
            "unsupported"
        );
    }

    #[test]
    fn the_bundled_bank_data_parses_and_every_name_converts_to_zengin_kana() {
        let dir = directory().unwrap();
        assert!(dir.len() > 1000, "{}", dir.len());
        let mizuho = lookup_bank(&BankCode::parse("0001").unwrap())
            .unwrap()
            .unwrap();
        assert_eq!(mizuho.name, "みずほ");
        let branch = lookup_branch(mizuho, &BranchCode::parse("001").unwrap())
            .unwrap()
            .unwrap();
        assert_eq!(branch.name, "東京営業部");
        let mut branches = 0;
        for bank in dir.values() {
            assert!(to_zengin_kana(&bank.kana).is_ok(), "{}", bank.kana);
            for b in bank.branches.values() {
                branches += 1;
                assert!(to_zengin_kana(&b.kana).is_ok(), "{} {}", bank.name, b.kana);
            }
        }
        assert!(branches > 20_000, "{branches}");
        assert_eq!(
            to_zengin_kana_lossy("ミツビシユ－エフジエイ", 15),
            "ﾐﾂﾋﾞｼﾕ-ｴﾌｼﾞｴｲ"
        );
    }

    #[test]
    fn a_whole_account_reports_every_problem_at_once() {
        let input = BankAccountInput {
            bank_code: Some("0000".into()),
            branch_code: Some("12".into()),
            account_type: Some(3),
            account_number: Some("x".into()),
            holder_kana: Some("山田".into()),
            ..Default::default()
        };
        let Err(BankAccountError::Invalid(e)) = parse_account(&input) else {
            panic!("expected field errors");
        };
        let mut fields: Vec<&str> = e.as_slice().iter().map(|f| f.field.as_str()).collect();
        fields.sort();
        assert_eq!(
            fields,
            [
                "account_number",
                "account_type",
                "bank_code",
                "branch_code",
                "holder_kana"
            ]
        );
    }
}
