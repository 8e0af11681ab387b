//! Project chores. `cargo xtask codegen` regenerates the STU3 model of
//! `crates/ems-stu3/src/generated/` from
//! `../shared/fhir-assets/hl7-stu3/stu3-elements.json` (override the shared
//! folder with `EMS_SHARED=<dir>`); `cargo xtask codegen --check` fails when
//! the committed files differ from what the generator produces.
//!
//! `cargo xtask bench-against [REV] [--quick] [--criterion] [--layout SEED]
//! [-- CRITERION-ARGS]` times the model path `build` of the working tree
//! against REV (default 563842b) in one process: see [`bench_against`].

use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

mod bench_against;
mod codes;
mod conformance;
mod event_types;
mod place;
mod profiles;
mod server_responses;
mod visit;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let check = args.iter().any(|a| a == "--check");
    match args.first().map(String::as_str) {
        Some("codegen") => match codegen(check) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("xtask codegen: {e}");
                ExitCode::FAILURE
            }
        },
        Some("bench-against") => match bench_against::run(&args[1..]) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("xtask bench-against: {e}");
                ExitCode::FAILURE
            }
        },
        _ => {
            eprintln!(
                "usage: cargo xtask codegen [--check]\n       {}",
                bench_against::usage().trim_start_matches("usage: ")
            );
            ExitCode::from(2)
        }
    }
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives in the workspace")
        .to_path_buf()
}

/// The shared reference folder (`../shared` beside the checkout).
pub fn shared() -> PathBuf {
    match std::env::var_os("EMS_SHARED") {
        Some(p) => PathBuf::from(p),
        None => root().join("..").join("shared"),
    }
}

fn codegen(check: bool) -> Result<(), String> {
    let path = shared().join("fhir-assets/hl7-stu3/stu3-elements.json");
    let text = read(&path)?;
    let json: Value =
        serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    let model = Model::load(&json)?;
    let mut files: Vec<(PathBuf, String)> = Vec::new();
    let gen_dir = root().join("crates/ems-stu3/src/generated");
    files.push((gen_dir.join("mod.rs"), model.emit_mod()));
    files.push((gen_dir.join("datatypes.rs"), model.emit_structs(false)));
    files.push((gen_dir.join("resources.rs"), model.emit_structs(true)));
    files.push((gen_dir.join("resource_enum.rs"), model.emit_resource_enum()));
    files.push((gen_dir.join("visit.rs"), visit::emit(&model)));
    let (place, elements) = place::emit(&model);
    files.push((gen_dir.join("place.rs"), place));
    files.push((gen_dir.join("elements.rs"), elements));
    for (p, c) in codes::emit(&shared())? {
        files.push((root().join(p), c));
    }
    for (p, c) in profiles::emit(&shared())? {
        files.push((root().join(p), c));
    }
    for (p, c) in conformance::emit(&root(), &shared())? {
        let c = server_responses::fill(&c)?;
        files.push((p, c));
    }
    for (p, c) in event_types::emit(&shared())? {
        files.push((root().join(p), c));
    }
    let mut stale = Vec::new();
    for (p, content) in &files {
        let formatted = match p.extension() {
            Some(x) if x == "md" => content.clone(),
            _ => rustfmt(content)?,
        };
        let current = std::fs::read_to_string(p).unwrap_or_default();
        if current != formatted {
            if check {
                stale.push(p.display().to_string());
            } else {
                if let Some(d) = p.parent() {
                    std::fs::create_dir_all(d).map_err(|e| e.to_string())?;
                }
                write(p, &formatted)?;
                println!("wrote {}", p.display());
            }
        }
    }
    if !stale.is_empty() {
        return Err(format!(
            "generated files are out of date (run `cargo xtask codegen`): {}",
            stale.join(", ")
        ));
    }
    Ok(())
}

fn rustfmt(src: &str) -> Result<String, String> {
    use std::io::Write;
    let mut child = Command::new("rustfmt")
        .args(["--edition", "2021", "--emit", "stdout", "--quiet"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| format!("rustfmt: {e}"))?;
    let mut stdin = child.stdin.take().ok_or("rustfmt stdin")?;
    let src = src.to_owned();
    let writer = std::thread::spawn(move || stdin.write_all(src.as_bytes()));
    let out = child.wait_with_output().map_err(|e| e.to_string())?;
    writer
        .join()
        .map_err(|_| "rustfmt writer")?
        .map_err(|e| e.to_string())?;
    if !out.status.success() {
        return Err(format!(
            "rustfmt failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    String::from_utf8(out.stdout).map_err(|e| e.to_string())
}

pub const HEADER: &str = "// @generated by `cargo xtask codegen` from ../shared/fhir-assets/hl7-stu3/stu3-elements.json.\n// DO NOT EDIT: change xtask/src/main.rs and regenerate.\n";

#[derive(Debug)]
enum FieldKind {
    Attr,
    Prim(&'static str),
    Complex(String),
    Choice(Vec<(String, String)>),
    Resource,
    Xhtml,
}

#[derive(Debug)]
struct Field {
    name: String,
    rust: String,
    min: u64,
    many: bool,
    kind: FieldKind,
    types: Vec<String>,
    boxed: bool,
    codes: Vec<String>,
    codes_complete: bool,
}

#[derive(Debug)]
struct Struct {
    fhir: String,
    rust: String,
    kind: String,
    fields: Vec<Field>,
}

struct Model {
    structs: Vec<Struct>,
    index: BTreeMap<String, usize>,
}

const PRIMS: &[(&str, &str, &str)] = &[
    ("boolean", "Boolean", "Boolean"),
    ("integer", "Integer", "Integer"),
    ("positiveInt", "PositiveInt", "PositiveInt"),
    ("unsignedInt", "UnsignedInt", "UnsignedInt"),
    ("decimal", "Decimal", "Decimal"),
    ("string", "FhirString", "String"),
    ("uri", "Uri", "Uri"),
    ("code", "Code", "Code"),
    ("id", "Id", "Id"),
    ("oid", "Oid", "Oid"),
    ("markdown", "Markdown", "Markdown"),
    ("base64Binary", "Base64Binary", "Base64Binary"),
    ("date", "Date", "Date"),
    ("dateTime", "DateTime", "DateTime"),
    ("instant", "Instant", "Instant"),
    ("time", "Time", "Time"),
];

fn prim(t: &str) -> Option<(&'static str, &'static str, &'static str)> {
    PRIMS.iter().copied().find(|p| p.0 == t)
}

/// `s` in PascalCase: each segment (separated by `.` in an element path,
/// by `-` in an event code) capitalised, the separators dropped.
/// The text of file `p`; the error names the file.
pub(crate) fn read(p: &Path) -> Result<String, String> {
    std::fs::read_to_string(p).map_err(|e| format!("{}: {e}", p.display()))
}

/// Writes `text` to file `p`; the error names the file.
pub(crate) fn write(p: &Path, text: &str) -> Result<(), String> {
    std::fs::write(p, text).map_err(|e| format!("{}: {e}", p.display()))
}

fn pascal(s: &str) -> String {
    s.split(['.', '-'])
        .map(|seg| {
            let mut c = seg.chars();
            match c.next() {
                Some(f) => f.to_ascii_uppercase().to_string() + c.as_str(),
                None => String::new(),
            }
        })
        .collect()
}

fn snake(s: &str) -> String {
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if c.is_ascii_uppercase() {
            if i > 0 {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    match out.as_str() {
        "type" | "use" | "class" | "abstract" | "for" | "ref" | "match" | "mod" | "final"
        | "self" | "trait" | "where" | "loop" | "if" | "else" | "as" | "in" | "impl" | "let"
        | "static" | "struct" | "enum" | "const" | "crate" | "dyn" | "move" | "return"
        | "override" | "priv" | "box" | "yield" | "macro" | "virtual" | "do" | "try" => {
            out.push('_');
            out
        }
        _ => out,
    }
}

fn doc_escape(s: &str) -> String {
    s.replace('[', "\\[").replace(']', "\\]")
}

impl Model {
    fn load(json: &Value) -> Result<Model, String> {
        let types = json["types"].as_object().ok_or("no `types`")?;
        let mut structs = Vec::new();
        for (name, t) in types {
            let kind = t["kind"].as_str().unwrap_or_default().to_string();
            if kind.starts_with("abstract") {
                continue;
            }
            let rust = match kind.as_str() {
                "backbone" => pascal(name),
                _ => name.clone(),
            };
            let owner = rust.clone();
            let mut fields = Vec::new();
            for e in t["elements"].as_array().ok_or("no elements")? {
                let ename = e["name"].as_str().ok_or("element name")?;
                let types: Vec<String> = e["types"]
                    .as_array()
                    .ok_or("types")?
                    .iter()
                    .filter_map(|v| v.as_str().map(str::to_owned))
                    .collect();
                let many = e["max"].as_str() == Some("*");
                let min = e["min"].as_u64().unwrap_or(0);
                let base = ename.trim_end_matches("[x]").to_string();
                let fk = if e["xmlAttribute"].as_bool() == Some(true) {
                    FieldKind::Attr
                } else if e["choice"].as_bool() == Some(true) {
                    let ce = e["choiceElements"].as_object().ok_or("choiceElements")?;
                    // choiceElements is in schema order in the file; serde_json
                    // without preserve_order sorts keys, so re-order by `types`.
                    let mut alts: Vec<(String, String)> = Vec::new();
                    for ty in &types {
                        if alts.iter().any(|(_, t)| t == ty) {
                            continue;
                        }
                        let (cname, _) = ce
                            .iter()
                            .find(|(_, v)| v.as_str() == Some(ty))
                            .ok_or_else(|| format!("{name}.{ename}: no choice element for {ty}"))?;
                        alts.push((cname.clone(), ty.clone()));
                    }
                    FieldKind::Choice(alts)
                } else if types[0] == "Resource" {
                    FieldKind::Resource
                } else if types[0] == "xhtml" {
                    FieldKind::Xhtml
                } else if let Some((p, _, _)) = prim(&types[0]) {
                    FieldKind::Prim(p)
                } else if types[0] == "BackboneElement" || types[0] == "Element" {
                    let bb = e["backbone"]
                        .as_str()
                        .ok_or_else(|| format!("{name}.{ename}: backbone without key"))?;
                    FieldKind::Complex(bb.to_string())
                } else {
                    FieldKind::Complex(types[0].clone())
                };
                let _ = &owner;
                let codes: Vec<String> = e["codes"]
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .filter_map(|c| c.as_str().map(str::to_owned))
                            .collect()
                    })
                    .unwrap_or_default();
                let codes_complete = e["codesComplete"].as_bool() != Some(false);
                fields.push(Field {
                    name: base.clone(),
                    rust: snake(&base),
                    min,
                    many,
                    kind: fk,
                    types,
                    boxed: false,
                    codes,
                    codes_complete,
                });
            }
            structs.push(Struct {
                fhir: name.clone(),
                rust,
                kind,
                fields,
            });
        }
        let mut seen = BTreeSet::new();
        for s in &structs {
            if !seen.insert(s.rust.clone()) {
                return Err(format!("Rust type name collision: {}", s.rust));
            }
        }
        let index: BTreeMap<String, usize> = structs
            .iter()
            .enumerate()
            .map(|(i, s)| (s.fhir.clone(), i))
            .collect();
        let mut m = Model { structs, index };
        m.mark_boxes()?;
        Ok(m)
    }

    /// Single-valued complex fields on a cycle of single-valued complex
    /// fields are boxed (e.g. `Identifier.assigner` → `Reference.identifier`).
    fn mark_boxes(&mut self) -> Result<(), String> {
        let n = self.structs.len();
        let mut edges: Vec<Vec<usize>> = vec![Vec::new(); n];
        for (i, s) in self.structs.iter().enumerate() {
            for f in &s.fields {
                if let FieldKind::Complex(t) = &f.kind {
                    let j = *self
                        .index
                        .get(t)
                        .ok_or_else(|| format!("{}.{}: unknown type {t}", s.fhir, f.name))?;
                    if !f.many {
                        edges[i].push(j);
                    }
                }
            }
        }
        let reaches = |from: usize, to: usize| -> bool {
            let mut stack = vec![from];
            let mut seen = vec![false; n];
            while let Some(x) = stack.pop() {
                if x == to {
                    return true;
                }
                if std::mem::replace(&mut seen[x], true) {
                    continue;
                }
                stack.extend(edges[x].iter().copied());
            }
            false
        };
        let mut to_box = Vec::new();
        for (i, s) in self.structs.iter().enumerate() {
            for (k, f) in s.fields.iter().enumerate() {
                if let FieldKind::Complex(t) = &f.kind {
                    if !f.many && reaches(self.index[t], i) {
                        to_box.push((i, k));
                    }
                }
            }
        }
        for (i, k) in to_box {
            self.structs[i].fields[k].boxed = true;
        }
        Ok(())
    }

    fn rust_of(&self, fhir: &str) -> String {
        self.structs[self.index[fhir]].rust.clone()
    }

    fn emit_mod(&self) -> String {
        let mut o = String::from(HEADER);
        o.push_str(
            "//! Generated STU3 model: datatypes, resources, backbone elements and the `Resource` enum.\n\n\
             mod datatypes;\nmod elements;\npub(crate) mod place;\nmod resource_enum;\nmod resources;\nmod visit;\n\n\
             pub use datatypes::*;\npub use resource_enum::*;\npub use resources::*;\n",
        );
        o
    }

    fn choice_enum_name(owner: &str, field: &str) -> String {
        format!("{owner}{}", pascal(field))
    }

    fn field_type(&self, s: &Struct, f: &Field) -> String {
        let inner = match &f.kind {
            FieldKind::Attr => "Str".to_string(),
            FieldKind::Xhtml => "String".to_string(),
            FieldKind::Prim(p) => prim(p).map(|x| x.1.to_string()).unwrap_or_default(),
            FieldKind::Complex(t) => self.rust_of(t),
            FieldKind::Choice(_) => Self::choice_enum_name(&s.rust, &f.name),
            FieldKind::Resource => "Resource".to_string(),
        };
        if f.many
            && !matches!(
                f.kind,
                FieldKind::Attr | FieldKind::Xhtml | FieldKind::Choice(_)
            )
        {
            format!("Vec<{inner}>")
        } else if f.boxed {
            format!("Option<Box<{inner}>>")
        } else {
            format!("Option<{inner}>")
        }
    }

    fn emit_structs(&self, resources: bool) -> String {
        let mut o = String::from(HEADER);
        o.push_str(
            "#![allow(clippy::large_enum_variant)]\n\
             use crate::node::*;\nuse crate::primitive::*;\n#[allow(unused_imports)]\nuse crate::generated::*;\n\n",
        );
        for s in &self.structs {
            let is_res_side = match s.kind.as_str() {
                "resource" => true,
                "datatype" => false,
                _ => {
                    let root = s.fhir.split('.').next().unwrap_or_default();
                    self.index
                        .get(root)
                        .map(|&i| self.structs[i].kind == "resource")
                        .unwrap_or(false)
                }
            };
            if is_res_side != resources {
                continue;
            }
            self.emit_struct(&mut o, s);
        }
        o
    }

    fn emit_struct(&self, o: &mut String, s: &Struct) {
        let what = match s.kind.as_str() {
            "resource" => "resource",
            "datatype" => "datatype",
            _ => "backbone element",
        };
        let upper = s.rust.to_ascii_uppercase();
        let _ = writeln!(o, "/// FHIR STU3 {what} `{}`.", s.fhir);
        let _ = writeln!(o, "#[derive(Clone, Debug, Default, PartialEq)]");
        let _ = writeln!(o, "pub struct {} {{", s.rust);
        for f in &s.fields {
            let card = format!("{}..{}", f.min, if f.many { "*" } else { "1" });
            let _ = writeln!(
                o,
                "    /// `{}` ({card}, {}).",
                f.name,
                doc_escape(&f.types.join(" | "))
            );
            let _ = writeln!(o, "    pub {}: {},", f.rust, self.field_type(s, f));
        }
        let _ = writeln!(o, "}}\n");

        // accessors for repeating elements: `push_<name>` appends and chains
        let repeating: Vec<&Field> = s
            .fields
            .iter()
            .filter(|f| self.field_type(s, f).starts_with("Vec<"))
            .collect();
        if !repeating.is_empty() {
            let _ = writeln!(o, "impl {} {{", s.rust);
            for f in repeating {
                let ty = self.field_type(s, f);
                let inner = &ty["Vec<".len()..ty.len() - 1];
                let _ = writeln!(
                    o,
                    "    /// Appends `v` to the repeating element `{}`; returns `self` so calls chain.",
                    f.name
                );
                let _ = writeln!(
                    o,
                    "    pub fn push_{}(&mut self, v: impl Into<{inner}>) -> &mut Self {{\n        self.{}.push(v.into());\n        self\n    }}",
                    f.rust.trim_end_matches('_'),
                    f.rust
                );
            }
            let _ = writeln!(o, "}}\n");
        }

        // choice enums
        for f in &s.fields {
            if let FieldKind::Choice(alts) = &f.kind {
                let en = Self::choice_enum_name(&s.rust, &f.name);
                let _ = writeln!(o, "/// Choice `{}.{}[x]`.", s.fhir, f.name);
                let _ = writeln!(o, "#[derive(Clone, Debug, PartialEq)]");
                let _ = writeln!(o, "pub enum {en} {{");
                for (cname, ty) in alts {
                    let (var, payload) = self.variant(ty);
                    let _ = writeln!(o, "    /// `{cname}`.\n    {var}({payload}),");
                }
                let _ = writeln!(o, "}}\n");
                let _ = writeln!(o, "impl Choice for {en} {{");
                let _ = writeln!(
                    o,
                    "    fn new_variant(i: usize) -> Option<Self> {{ match i {{"
                );
                for (k, (_, ty)) in alts.iter().enumerate() {
                    let (var, _) = self.variant(ty);
                    let _ = writeln!(o, "        {k} => Some(Self::{var}(Default::default())),");
                }
                let _ = writeln!(o, "        _ => None, }} }}");
                let _ = writeln!(
                    o,
                    "    fn value_mut(&mut self) -> ChoiceMut<'_> {{ match self {{"
                );
                for (_, ty) in alts {
                    let (var, _) = self.variant(ty);
                    if prim(ty).is_some() {
                        let _ = writeln!(o, "        Self::{var}(v) => ChoiceMut::Prim(v),");
                    } else {
                        let _ = writeln!(o, "        Self::{var}(v) => ChoiceMut::Node(&mut **v),");
                    }
                }
                let _ = writeln!(o, "    }} }}");
                let _ = writeln!(
                    o,
                    "    fn value(&self) -> (usize, ChoiceRef<'_>) {{ match self {{"
                );
                for (k, (_, ty)) in alts.iter().enumerate() {
                    let (var, _) = self.variant(ty);
                    if prim(ty).is_some() {
                        let _ = writeln!(o, "        Self::{var}(v) => ({k}, ChoiceRef::Prim(v)),");
                    } else {
                        let _ =
                            writeln!(o, "        Self::{var}(v) => ({k}, ChoiceRef::Node(&**v)),");
                    }
                }
                let _ = writeln!(o, "    }} }}\n}}\n");
                let _ = writeln!(
                    o,
                    "static {upper}_{}_CHOICES: [ChoiceDesc; {}] = [",
                    f.name.to_ascii_uppercase(),
                    alts.len()
                );
                for (cname, ty) in alts {
                    let p = match prim(ty) {
                        Some((_, _, k)) => format!("Some(PrimKind::{k})"),
                        None => "None".into(),
                    };
                    let _ = writeln!(
                        o,
                        "    ChoiceDesc {{ name: \"{cname}\", type_name: \"{ty}\", prim: {p} }},"
                    );
                }
                let _ = writeln!(o, "];\n");
            }
        }

        // descriptor
        let _ = writeln!(
            o,
            "static {upper}_FIELDS: [FieldDesc; {}] = [",
            s.fields.len()
        );
        for f in &s.fields {
            let kind = match &f.kind {
                FieldKind::Attr => "FieldKind::Attr".to_string(),
                FieldKind::Prim(p) => format!(
                    "FieldKind::Prim(PrimKind::{})",
                    prim(p).map(|x| x.2).unwrap_or("String")
                ),
                FieldKind::Complex(t) => format!("FieldKind::Complex(\"{t}\")"),
                FieldKind::Choice(_) => format!(
                    "FieldKind::Choice(&{upper}_{}_CHOICES)",
                    f.name.to_ascii_uppercase()
                ),
                FieldKind::Resource => "FieldKind::Resource".into(),
                FieldKind::Xhtml => "FieldKind::Xhtml".into(),
            };
            let codes = if f.codes.is_empty() {
                "&[]".to_string()
            } else {
                format!(
                    "&[{}]",
                    f.codes
                        .iter()
                        .map(|c| format!("{c:?}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            };
            let _ = writeln!(
                o,
                "    FieldDesc {{ name: \"{}\", min: {}, many: {}, kind: {kind}, codes: {codes}, codes_complete: {} }},",
                f.name, f.min, f.many, f.codes_complete
            );
        }
        let _ = writeln!(o, "];\n");
        let _ = writeln!(o, "/// Element table of `{}`, in schema order.", s.fhir);
        let _ = writeln!(
            o,
            "pub static {upper}_DESC: TypeDesc = TypeDesc {{ name: \"{}\", fields: &{upper}_FIELDS, is_resource: {} }};\n",
            s.fhir,
            s.kind == "resource"
        );

        // Node impl
        let _ = writeln!(o, "impl Node for {} {{", s.rust);
        let _ = writeln!(
            o,
            "    fn desc(&self) -> &'static TypeDesc {{ &{upper}_DESC }}"
        );
        let _ = writeln!(
            o,
            "    fn field_mut(&mut self, i: usize) -> FieldMut<'_> {{ match i {{"
        );
        for (k, f) in s.fields.iter().enumerate() {
            let v = match (&f.kind, f.many) {
                (FieldKind::Attr, _) => "Attr",
                (FieldKind::Xhtml, _) => "Xhtml",
                (FieldKind::Prim(_), false) => "Prim",
                (FieldKind::Prim(_), true) => "PrimList",
                (FieldKind::Complex(_), false) => "One",
                (FieldKind::Complex(_), true) => "Many",
                (FieldKind::Choice(_), _) => "Choice",
                (FieldKind::Resource, false) => "Resource",
                (FieldKind::Resource, true) => "Resources",
            };
            let _ = writeln!(o, "        {k} => FieldMut::{v}(&mut self.{}),", f.rust);
        }
        let _ = writeln!(
            o,
            "        _ => panic!(\"{}: no element {{i}}\"), }} }}",
            s.fhir
        );
        // present(): bit k set when element k holds something (the readers'
        // `seen` sets and this mask assume at most 128 elements per type)
        assert!(
            s.fields.len() <= 128,
            "{} has more than 128 elements",
            s.fhir
        );
        let _ = writeln!(o, "    fn present(&self) -> u128 {{");
        if s.fields.is_empty() {
            let _ = writeln!(o, "        0");
        }
        for (k, f) in s.fields.iter().enumerate() {
            let r = &f.rust;
            let test = match (&f.kind, f.many) {
                (FieldKind::Attr | FieldKind::Xhtml | FieldKind::Choice(_), _) => {
                    format!("self.{r}.is_some()")
                }
                (_, false) => format!("self.{r}.is_some()"),
                (_, true) => format!("!self.{r}.is_empty()"),
            };
            let _ = match k {
                0 => writeln!(o, "        u128::from({test})"),
                _ => writeln!(o, "        | (u128::from({test}) << {k})"),
            };
        }
        let _ = writeln!(o, "    }}");
        let _ = writeln!(
            o,
            "    fn field(&self, i: usize) -> FieldRef<'_> {{ match i {{"
        );
        for (k, f) in s.fields.iter().enumerate() {
            let r = &f.rust;
            let e = match (&f.kind, f.many) {
                (FieldKind::Attr, _) => format!("FieldRef::Attr(self.{r}.as_deref())"),
                (FieldKind::Xhtml, _) => format!("FieldRef::Xhtml(self.{r}.as_deref())"),
                (FieldKind::Prim(_), false) => format!("FieldRef::Prim(PrimOpt::get(&self.{r}))"),
                (FieldKind::Prim(_), true) => format!("FieldRef::PrimList(&self.{r})"),
                (FieldKind::Complex(_), false) => format!("FieldRef::One(NodeOpt::get(&self.{r}))"),
                (FieldKind::Complex(_), true) => format!("FieldRef::Many(&self.{r})"),
                (FieldKind::Choice(_), _) => {
                    format!("FieldRef::Choice(ChoiceSlot::get(&self.{r}))")
                }
                (FieldKind::Resource, false) => format!("FieldRef::Resource(self.{r}.as_ref())"),
                (FieldKind::Resource, true) => format!("FieldRef::Resources(&self.{r})"),
            };
            let _ = writeln!(o, "        {k} => {e},");
        }
        let _ = writeln!(
            o,
            "        _ => panic!(\"{}: no element {{i}}\"), }} }}",
            s.fhir
        );
        let _ = writeln!(o, "}}\n");
    }

    fn variant(&self, ty: &str) -> (String, String) {
        match prim(ty) {
            Some((_, alias, _)) => (pascal(ty), alias.to_string()),
            None => (pascal(ty), format!("Box<{}>", self.rust_of(ty))),
        }
    }

    fn emit_resource_enum(&self) -> String {
        let res: Vec<&Struct> = self
            .structs
            .iter()
            .filter(|s| s.kind == "resource")
            .collect();
        let mut o = String::from(HEADER);
        o.push_str("use crate::node::*;\n#[allow(unused_imports)]\nuse crate::generated::*;\n\n");
        o.push_str("/// Any STU3 resource (all ");
        let _ = write!(o, "{}", res.len());
        o.push_str(" resource types).\n#[derive(Clone, Debug, PartialEq)]\npub enum Resource {\n");
        for s in &res {
            let _ = writeln!(o, "    /// `{}`.\n    {}(Box<{}>),", s.fhir, s.rust, s.rust);
        }
        o.push_str("}\n\n");
        let _ = writeln!(o, "/// Names of all resource types, sorted.");
        let _ = writeln!(o, "pub static RESOURCE_TYPES: [&str; {}] = [", res.len());
        for s in &res {
            let _ = writeln!(o, "    \"{}\",", s.fhir);
        }
        o.push_str("];\n\n");
        o.push_str("impl Resource {\n");
        o.push_str("    /// The resource type name (`Patient`, `Bundle`, ...).\n    pub fn resource_type(&self) -> &'static str { match self {\n");
        for s in &res {
            let _ = writeln!(o, "        Resource::{}(_) => \"{}\",", s.rust, s.fhir);
        }
        o.push_str("    } }\n\n");
        o.push_str("    /// An empty resource of the named type, or `None` for an unknown name.\n    pub fn new_of_type(name: &str) -> Option<Resource> {\n        let i = crate::generated::place::resource_index(name) as usize;\n        Some(match i {\n");
        for (k, s) in res.iter().enumerate() {
            let _ = writeln!(
                o,
                "            {k} => Resource::{}(Box::default()),",
                s.rust
            );
        }
        o.push_str("            _ => return None,\n        })\n    }\n\n");
        o.push_str("    /// The logical id (`Resource.id`), if present.\n    pub fn id(&self) -> Option<&str> { match self {\n");
        for s in &res {
            let _ = writeln!(
                o,
                "        Resource::{}(r) => r.id.as_ref().and_then(|p| p.value.as_deref()),",
                s.rust
            );
        }
        o.push_str("    } }\n\n");
        o.push_str("    /// `Resource.id`, to set or clear the logical id in place.\n    pub fn id_mut(&mut self) -> &mut Option<crate::primitive::Id> { match self {\n");
        for s in &res {
            let _ = writeln!(o, "        Resource::{}(r) => &mut r.id,", s.rust);
        }
        o.push_str("    } }\n\n");
        o.push_str("    /// `Resource.meta`, if present.\n    pub fn meta(&self) -> Option<&Meta> { match self {\n");
        for s in &res {
            let _ = writeln!(o, "        Resource::{}(r) => r.meta.as_ref(),", s.rust);
        }
        o.push_str("    } }\n\n");
        o.push_str("    /// The resource as a codec [`Node`].\n    pub fn as_node(&self) -> &dyn Node { match self {\n");
        for s in &res {
            let _ = writeln!(o, "        Resource::{}(r) => &**r,", s.rust);
        }
        o.push_str("    } }\n\n");
        o.push_str("    /// The resource as a mutable codec [`Node`].\n    pub fn as_node_mut(&mut self) -> &mut dyn Node { match self {\n");
        for s in &res {
            let _ = writeln!(o, "        Resource::{}(r) => &mut **r,", s.rust);
        }
        o.push_str("    } }\n}\n\n");
        o.push_str("/// A concrete resource type that can be taken out of a [`Resource`].\npub trait ResourceKind: Node + Default + Sized {\n    /// The resource type name.\n    const TYPE: &'static str;\n    /// Borrows the resource if `r` is of this type.\n    fn from_resource(r: &Resource) -> Option<&Self>;\n    /// Mutably borrows the resource if `r` is of this type.\n    fn from_resource_mut(r: &mut Resource) -> Option<&mut Self>;\n    /// Wraps the resource.\n    fn into_resource(self) -> Resource;\n}\n\n");
        for s in &res {
            let r = &s.rust;
            let _ = writeln!(
                o,
                "impl ResourceKind for {r} {{\n    const TYPE: &'static str = \"{}\";\n    fn from_resource(r: &Resource) -> Option<&Self> {{ match r {{ Resource::{r}(v) => Some(v), _ => None }} }}\n    fn from_resource_mut(r: &mut Resource) -> Option<&mut Self> {{ match r {{ Resource::{r}(v) => Some(v), _ => None }} }}\n    fn into_resource(self) -> Resource {{ Resource::{r}(Box::new(self)) }}\n}}\n\nimpl From<{r}> for Resource {{ fn from(v: {r}) -> Self {{ Resource::{r}(Box::new(v)) }} }}\n",
                s.fhir
            );
        }
        o
    }
}
