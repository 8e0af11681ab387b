//! The generated `push_<name>` accessors of repeating elements.

use ems_stu3::*;

#[test]
fn push_accessors_convert_chain_and_round_trip() {
    let mut patient = Patient {
        id: Some("p1".into()),
        ..Default::default()
    };
    let mut name = HumanName::default();
    name.push_given("Jane").push_given("Ann").push_prefix("Dr");
    patient.push_name(name);
    // a resource converts into `Resource` for `contained`
    patient.push_contained(Organization {
        id: Some("o1".into()),
        ..Default::default()
    });
    assert_eq!(patient.name[0].given.len(), 2);
    assert_eq!(patient.contained[0].resource_type(), "Organization");

    let mut bundle = Bundle {
        type_: Some("collection".into()),
        ..Default::default()
    };
    bundle.push_entry(BundleEntry {
        full_url: Some("urn:uuid:5f1f2a4e-0c1b-4c55-9a3e-2b1d5f6e7a80".into()),
        resource: Some(Resource::from(patient)),
        ..Default::default()
    });
    let r = Resource::from(bundle);
    let xml = to_xml(&r);
    let back = from_xml(xml.as_bytes()).expect("reads back");
    assert!(back.outcome.issues.is_empty(), "{:?}", back.outcome.issues);
    assert_eq!(back.resource, r);
    let b: &Bundle = back.resource.get().unwrap();
    let p: &Patient = b.entry[0].resource.as_ref().unwrap().get().unwrap();
    let given: Vec<_> = p.name[0]
        .given
        .iter()
        .map(|g| g.value.as_deref().unwrap())
        .collect();
    assert_eq!(given, ["Jane", "Ann"]);
}

/// The generated `Node::present` masks agree with asking every slot, on
/// every node of every NEMS corpus message (and of an empty resource).
#[test]
fn generated_presence_masks_match_the_slots() {
    use ems_stu3::node::{is_present, ChoiceRef, FieldRef, Node};
    fn check(n: &dyn Node, count: &mut usize) {
        *count += 1;
        let desc = n.desc();
        let mut want = 0u128;
        for i in 0..desc.fields.len() {
            let f = n.field(i);
            if is_present(&f) {
                want |= 1 << i;
            }
            match f {
                FieldRef::One(Some(c)) => check(c, count),
                FieldRef::Many(v) => (0..v.len())
                    .filter_map(|j| v.get(j))
                    .for_each(|c| check(c, count)),
                FieldRef::Choice(Some((_, ChoiceRef::Node(c)))) => check(c, count),
                FieldRef::Resource(Some(r)) => check(r.as_node(), count),
                FieldRef::Resources(v) => v.iter().for_each(|r| check(r.as_node(), count)),
                _ => {}
            }
        }
        assert_eq!(n.present(), want, "{}", desc.name);
    }
    let mut count = 0;
    for x in ems_testdata::nems_xml() {
        let r = ems_stu3::from_xml(&x).unwrap().resource;
        check(r.as_node(), &mut count);
    }
    check(
        ems_stu3::Resource::from(ems_stu3::Patient::default()).as_node(),
        &mut count,
    );
    assert!(count > 1000, "{count} nodes checked");
}
