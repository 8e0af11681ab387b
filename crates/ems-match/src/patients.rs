//! The PDS stand-in: what "PDS" knows of each patient, from a CSV file
//! (`ems route --patients`, `ems serve --patients`).

use crate::geography::split_csv;
use crate::matcher::{PatientContext, PdsFlag};
use crate::nhs::NhsNumber;
use std::collections::HashMap;

/// A line of the patients CSV that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct PatientsCsvError {
    /// 1-based line.
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

/// Reads the PDS stand-in CSV: header `nhs_number,postcode,gp_practice[,pds_flag]`
/// (any order, case-insensitive); an empty `gp_practice` means not registered;
/// `pds_flag` is `S`, `I` or empty. Blank lines are skipped.
///
/// ```
/// let p = ems_match::parse_patients_csv("nhs_number,postcode,gp_practice\n9434765919,LS17 7DF,B86001\n").unwrap();
/// let ctx = &p[&"9434765919".parse().unwrap()];
/// assert_eq!(ctx.gp_practice.as_deref(), Some("B86001"));
/// ```
pub fn parse_patients_csv(
    text: &str,
) -> Result<HashMap<NhsNumber, PatientContext>, PatientsCsvError> {
    let mut lines = text.lines();
    let header = split_csv(lines.next().unwrap_or_default());
    let col = |n: &str| header.iter().position(|h| h.eq_ignore_ascii_case(n));
    let (Some(n), Some(pc), Some(gp)) = (col("nhs_number"), col("postcode"), col("gp_practice"))
    else {
        return Err(PatientsCsvError {
            line: 1,
            message: "header must be nhs_number,postcode,gp_practice[,pds_flag]".into(),
        });
    };
    let flag = col("pds_flag");
    let mut out = HashMap::new();
    for (i, line) in lines.enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let at = i + 2;
        let err = |message: String| PatientsCsvError { line: at, message };
        let f = split_csv(line);
        let get = |k: usize| f.get(k).map(String::as_str).unwrap_or("");
        let nhs = NhsNumber::parse(get(n)).map_err(|e| err(format!("`{}`: {e}", get(n))))?;
        let pds_flag = match flag.map(get).unwrap_or("") {
            "" => None,
            v => Some(
                PdsFlag::parse(v)
                    .ok_or_else(|| err(format!("pds_flag `{v}` is not S, I or empty")))?,
            ),
        };
        let opt = |v: &str| (!v.is_empty()).then(|| v.to_string());
        out.insert(
            nhs,
            PatientContext {
                postcode: opt(get(pc)),
                previous_postcode: None,
                gp_practice: opt(get(gp)),
                pds_flag,
            },
        );
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn located_errors_and_flags() {
        let e = parse_patients_csv("nhs,postcode\n").unwrap_err();
        assert_eq!(e.line, 1);
        let e =
            parse_patients_csv("nhs_number,postcode,gp_practice\n\n9434765918,X,Y\n").unwrap_err();
        assert_eq!(e.line, 3, "{e}");
        let e = parse_patients_csv("nhs_number,postcode,gp_practice,pds_flag\n9434765919,X,,Q\n")
            .unwrap_err();
        assert!(e.message.contains("pds_flag"), "{e}");
        let p =
            parse_patients_csv("GP_PRACTICE,NHS_NUMBER,POSTCODE,PDS_FLAG\n,9434765919,LS1 4AP,S\n")
                .unwrap();
        let c = &p[&"9434765919".parse().unwrap()];
        assert_eq!(
            (c.gp_practice.as_deref(), c.pds_flag),
            (None, Some(PdsFlag::Sensitive))
        );
        assert_eq!(c.postcode.as_deref(), Some("LS1 4AP"));
        assert!(parse_patients_csv("").is_err());
    }
}
