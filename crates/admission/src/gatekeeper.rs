//! Gatekeeper ConstraintTemplates and Constraints as a validator. Denials
//! and warnings read as Gatekeeper's do: `[constraint-name] message`.

use rampart_policy::{EnforcementAction, Gatekeeper};

use crate::Error;
use crate::engine::{Action, Finding, Review, Validator};

pub struct GatekeeperPolicies {
    gatekeeper: Gatekeeper,
}

impl GatekeeperPolicies {
    pub fn new(gatekeeper: Gatekeeper) -> Self {
        GatekeeperPolicies { gatekeeper }
    }
}

const SOURCE: &str = "gatekeeper";

impl Validator for GatekeeperPolicies {
    fn name(&self) -> &'static str {
        SOURCE
    }

    fn may_block(&self) -> bool {
        false
    }

    fn metrics(&self) -> String {
        format!(
            "# HELP rampart_admission_policy_evaluations_total Constraint evaluations that ran Rego (no cached result applied).\n\
             # TYPE rampart_admission_policy_evaluations_total counter\n\
             rampart_admission_policy_evaluations_total {}\n",
            self.gatekeeper.evaluations()
        )
    }

    fn validate(&self, r: &Review<'_>) -> Result<Vec<Finding>, Error> {
        let violations = if r.audit {
            self.gatekeeper.audit_object(r.object, r.namespace)
        } else {
            self.gatekeeper.review_until(r.request, r.namespace, r.deadline)
        }
        .map_err(|e| Error::Policy { validator: SOURCE.into(), message: e.to_string() })?;
        Ok(violations
            .into_iter()
            .map(|v| Finding {
                source: SOURCE,
                message: format!("[{}] {}", v.constraint, v.message),
                rule: format!("{}/{}", v.template, v.constraint),
                action: match v.action {
                    EnforcementAction::Deny => Action::Deny,
                    EnforcementAction::Warn => Action::Warn,
                    EnforcementAction::Dryrun => Action::Audit,
                },
            })
            .collect())
    }
}
