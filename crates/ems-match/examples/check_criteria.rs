//! Prints every problem in the criteria strings given as arguments.
fn main() {
    for a in std::env::args().skip(1) {
        let errs = ems_match::Criteria::check(&a);
        println!("{a}: {} problem(s)", errs.len());
        for e in errs {
            println!("  [{}] {e}", e.rule);
        }
    }
}
