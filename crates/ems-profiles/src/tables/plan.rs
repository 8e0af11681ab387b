//! A table compiled for evaluation: per role, one trie of the element paths
//! its rows read ([`RolePlan`]), so that the evaluator visits each member's
//! elements once for all the rows on a path. A trie node is one compiled
//! step ([`Step`]: an element slot or the extensions with a URL); its
//! `leaf` rows read each value there and its `frame` rows count the values
//! below each value there (the parent of `CardEach` and of `Is`). The rows
//! stay data: the plan only records where each row reads.

use super::eval::{compile, split_last, Step};
use super::{Check, Table};

/// One node of a role's trie.
#[derive(Debug)]
pub(crate) struct PNode {
    /// The step from the parent node (unused at the root, the member).
    pub step: Step,
    /// Child nodes (indexes into [`RolePlan::nodes`]).
    pub kids: Box<[u32]>,
    /// Rows that read each value at this node (row indexes).
    pub leaf: Box<[u16]>,
    /// Rows that count values below each value at this node (row indexes).
    pub frame: Box<[u16]>,
}

/// The rows of one role and where they read.
#[derive(Debug, Default)]
pub(crate) struct RolePlan {
    /// The role's rows that read its members (not `Count`, not `Logic`),
    /// in row order.
    pub rows: Box<[u16]>,
    /// Those with a state in the descent (counts, flags, indexes).
    pub reset: Box<[u16]>,
    /// Those that conclude on the member (`Card`, `Is`, `Includes`).
    pub ends: Box<[u16]>,
    /// The trie; node 0 is the member itself.
    pub nodes: Box<[PNode]>,
}

/// A table's plan.
#[derive(Debug, Default)]
pub(crate) struct Plan {
    /// One per role of the table.
    pub roles: Box<[RolePlan]>,
    /// The `Count` rows (row indexes, in row order).
    pub counts: Box<[u16]>,
    /// Rows whose path does not compile into slots (none in the tables: a
    /// test keeps it so; such a row would find no values).
    #[cfg_attr(not(test), allow(dead_code))]
    pub unplanned: Box<[u16]>,
}

/// Where a row reads (below `blank`, a resource of the row's role type):
/// its compiled steps and the number of them that lead to the frame (the
/// parent whose values are counted one by one: `CardEach` and `Is`;
/// `None`: the row has no frame below the member).
pub(crate) fn row_path(
    blank: &mut ems_stu3::Resource,
    check: &Check,
) -> Option<(Box<[Step]>, Option<usize>)> {
    match *check {
        Check::Count { .. } | Check::Logic { .. } => None,
        Check::CardEach { parent, path, .. } => {
            compile(blank, &[parent, path]).map(|(s, n)| (s, Some(n)))
        }
        Check::Is { path, .. } => {
            let (parent, leaf) = split_last(path);
            compile(blank, &[parent, leaf]).map(|(s, n)| (s, Some(n)))
        }
        Check::Card { path, .. }
        | Check::Fixed { path, .. }
        | Check::OneOf { path, .. }
        | Check::System { path, .. }
        | Check::Value { path, .. }
        | Check::Target { path, .. }
        | Check::Includes { path, .. }
        | Check::InBundle { path, .. } => compile(blank, &[path]).map(|(s, _)| (s, None)),
    }
}

fn same(a: Step, b: Step) -> bool {
    match (a, b) {
        (Step::Slot(i, x), Step::Slot(j, y)) => i == j && x == y,
        (Step::Ext(u), Step::Ext(v)) => u == v,
        _ => false,
    }
}

/// A trie under construction.
struct Builder {
    step: Vec<Step>,
    kids: Vec<Vec<u32>>,
    leaf: Vec<Vec<u16>>,
    frame: Vec<Vec<u16>>,
}

impl Builder {
    fn new() -> Builder {
        Builder {
            step: vec![Step::Slot(usize::MAX, None)],
            kids: vec![Vec::new()],
            leaf: vec![Vec::new()],
            frame: vec![Vec::new()],
        }
    }

    /// The node at the end of `steps` (created on first use).
    fn node(&mut self, steps: &[Step]) -> usize {
        let mut at = 0;
        for &st in steps {
            let found = self.kids[at]
                .iter()
                .map(|&i| i as usize)
                .find(|&i| same(self.step[i], st));
            at = match found {
                Some(i) => i,
                None => {
                    let i = self.step.len();
                    self.step.push(st);
                    self.kids.push(Vec::new());
                    self.leaf.push(Vec::new());
                    self.frame.push(Vec::new());
                    self.kids[at].push(i as u32);
                    i
                }
            };
        }
        at
    }

    fn finish(self) -> Box<[PNode]> {
        let Builder {
            step,
            kids,
            leaf,
            frame,
        } = self;
        step.into_iter()
            .zip(kids)
            .zip(leaf.into_iter().zip(frame))
            .map(|((step, kids), (leaf, frame))| PNode {
                step,
                kids: kids.into(),
                leaf: leaf.into(),
                frame: frame.into(),
            })
            .collect()
    }
}

/// Compiles `table` (`row_role`: the role index of each row; `direct`:
/// whether a row is a one-element `Card`, counted on the member without
/// the trie).
pub(crate) fn build(table: &Table, row_role: &[usize], direct: &[bool]) -> Plan {
    /// A role's lists under construction (rows, reset, ends).
    type Lists = [Vec<u16>; 3];
    let mut roles: Vec<(Lists, Builder)> = table
        .roles
        .iter()
        .map(|_| (Lists::default(), Builder::new()))
        .collect();
    let mut counts = Vec::new();
    let mut unplanned = Vec::new();
    let mut blanks: Vec<Option<ems_stu3::Resource>> = table.roles.iter().map(|_| None).collect();
    for (ix, row) in table.rows.iter().enumerate() {
        let ix16 = ix as u16;
        match row.check {
            Check::Logic { .. } => continue,
            Check::Count { .. } => {
                counts.push(ix16);
                continue;
            }
            _ => {}
        }
        let Some((rp, b)) = row_role.get(ix).and_then(|&ri| roles.get_mut(ri)) else {
            unplanned.push(ix16);
            continue;
        };
        let is_direct = direct.get(ix).copied().unwrap_or(false);
        let stateful = match row.check {
            Check::Card { .. } => !is_direct,
            Check::CardEach { .. }
            | Check::Is { .. }
            | Check::Includes { .. }
            | Check::InBundle { .. } => true,
            _ => false,
        };
        let ends = matches!(
            row.check,
            Check::Card { .. } | Check::Is { .. } | Check::Includes { .. }
        );
        rp[0].push(ix16);
        if stateful {
            rp[1].push(ix16);
        }
        if ends {
            rp[2].push(ix16);
        }
        if is_direct {
            continue;
        }
        // one blank resource per role serves all its rows' paths
        let ri = row_role[ix];
        if blanks[ri].is_none() {
            blanks[ri] = ems_stu3::Resource::new_of_type(table.roles[ri].ty);
        }
        let Some((steps, frame)) = blanks[ri]
            .as_mut()
            .and_then(|blank| row_path(blank, &row.check))
        else {
            unplanned.push(ix16);
            continue;
        };
        if let Some(f) = frame {
            let n = b.node(&steps[..f]);
            b.frame[n].push(ix16);
        }
        let n = b.node(&steps);
        b.leaf[n].push(ix16);
    }
    Plan {
        roles: roles
            .into_iter()
            .map(|([rows, reset, ends], b)| RolePlan {
                rows: rows.into(),
                reset: reset.into(),
                ends: ends.into(),
                nodes: b.finish(),
            })
            .collect(),
        counts: counts.into(),
        unplanned: unplanned.into(),
    }
}
