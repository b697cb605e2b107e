//! `replica.proto`: a write travelling between branches, and its acknowledgement.

use bank_core::{BranchId, CustomerId, EventId, Propagation, PropagationAck};

use super::types::{op, write_id, write_set};
use super::ConvertError;
use crate::v1 as pb;

impl From<&Propagation> for pb::Propagation {
    fn from(p: &Propagation) -> pb::Propagation {
        pb::Propagation {
            from_branch: p.from.0,
            write: Some(p.write.into()),
            customer_id: p.customer.0,
            event_id: p.event.0,
            operation: pb::Operation::from(p.op.kind()).into(),
            amount_cents: p.op.amount().0,
            depends_on: Some((&p.depends_on).into()),
            clock: p.clock,
        }
    }
}

/// Only a deposit or withdraw with a write id can travel.
impl TryFrom<&pb::Propagation> for Propagation {
    type Error = ConvertError;
    fn try_from(p: &pb::Propagation) -> Result<Propagation, ConvertError> {
        let op =
            op(p.operation, p.amount_cents, "Propagation.operation", "Propagation.amount_cents")?;
        if !op.is_write() {
            return Err(ConvertError::QueryPropagated { field: "Propagation.operation" });
        }
        Ok(Propagation {
            from: BranchId(p.from_branch),
            write: write_id(p.write, "Propagation.write")?,
            customer: CustomerId(p.customer_id),
            event: EventId(p.event_id),
            op,
            depends_on: write_set(p.depends_on.as_ref(), "Propagation.depends_on")?,
            clock: p.clock,
        })
    }
}

impl From<&PropagationAck> for pb::PropagationAck {
    fn from(a: &PropagationAck) -> pb::PropagationAck {
        pb::PropagationAck {
            from_branch: a.from.0,
            write: Some(a.write.into()),
            newly_applied: a.newly_applied,
            clock: a.clock,
        }
    }
}

impl TryFrom<&pb::PropagationAck> for PropagationAck {
    type Error = ConvertError;
    fn try_from(a: &pb::PropagationAck) -> Result<PropagationAck, ConvertError> {
        Ok(PropagationAck {
            from: BranchId(a.from_branch),
            write: write_id(a.write, "PropagationAck.write")?,
            newly_applied: a.newly_applied,
            clock: a.clock,
        })
    }
}
