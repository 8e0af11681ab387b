//! Prints the fuzzing plan (`ems_props::plan`): one line per target with
//! its seeds (`fhir` or `text`) and dictionaries. Used by `fuzz/run`.

fn main() {
    print!("{}", ems_props::plan());
}
