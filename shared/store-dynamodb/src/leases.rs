//! [`Leases`] on DynamoDB: leases in the one `LEASES` partition (a restart lists its node's),
//! claims as cooldown items; each taken by one conditional PutItem. Both expire by TTL.

use async_trait::async_trait;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::types::ReturnValuesOnConditionCheckFailure;
use balance_alert_core::store::{self, Claimant, Leases, StoreError};

use crate::errors::{applied, sdk};
use crate::item::{
    cooldown_key, int, lease_key, s, Attrs, Cooldown, Item, Lease, LEASES_PK, NODE, OWNER, UNTIL,
};
use crate::read::records;
use crate::request::Expr;
use crate::table::PK;
use crate::DynamoStore;

#[async_trait]
impl Leases for DynamoStore {
    async fn take_lease(
        &self,
        lease: &store::Lease,
        by: &Claimant,
        now: i64,
        until: i64,
    ) -> Result<bool, StoreError> {
        let key = &lease.key();
        let lease = Lease {
            key: key.to_string(),
            owner: by.owner.clone(),
            node: by.node.clone(),
            until,
        };
        let condition = Expr::new("attribute_not_exists(#pk) OR #owner = :owner OR #until <= :now")
            .name("#pk", PK)
            .name("#owner", OWNER)
            .name("#until", UNTIL)
            .value(":owner", s(&by.owner))
            .value(":now", int(now));
        self.put_if("take_lease", Item::from(&lease), &condition)
            .await
    }

    async fn release_lease(&self, lease: &store::Lease, owner: &str) -> Result<(), StoreError> {
        let key = &lease.key();
        self.delete_if("release_lease", lease_key(key), OWNER, owner)
            .await
            .map(drop)
    }

    async fn release_node_leases(&self, node: &str) -> Result<u64, StoreError> {
        const OP: &str = "release_node_leases";
        let query = self
            .client
            .query()
            .key_condition_expression("#pk = :pk")
            .expression_attribute_names("#pk", PK)
            .expression_attribute_values(":pk", s(LEASES_PK))
            .consistent_read(true);
        let leases: Vec<Lease> = records(&self.query_all(OP, query, None).await?)?;
        let mut released = 0;
        for lease in leases
            .into_iter()
            .filter(|l| l.node.as_deref() == Some(node))
        {
            if self
                .delete_if(OP, lease_key(&lease.key), NODE, node)
                .await?
            {
                released += 1;
            }
        }
        Ok(released)
    }

    async fn claim(
        &self,
        lease: &store::Lease,
        now: i64,
        until: i64,
    ) -> Result<Option<i64>, StoreError> {
        let key = &lease.key();
        const OP: &str = "claim";
        let claim = Item::from(&Cooldown {
            key: key.to_string(),
            until,
        });
        // Two tries: the holder may expire (or TTL may delete it) between the failed claim
        // and reading it back.
        for _ in 0..2 {
            let result = self
                .client
                .put_item()
                .table_name(&self.table)
                .set_item(Some(claim.0.clone()))
                .condition_expression("attribute_not_exists(#pk) OR #until <= :now")
                .expression_attribute_names("#pk", PK)
                .expression_attribute_names("#until", UNTIL)
                .expression_attribute_values(":now", int(now))
                .return_values_on_condition_check_failure(
                    ReturnValuesOnConditionCheckFailure::AllOld,
                )
                .send()
                .await;
            let old = match result {
                Ok(_) => return Ok(None),
                Err(e)
                    if e.as_service_error()
                        .is_some_and(|e| e.is_conditional_check_failed_exception()) =>
                {
                    match e.into_service_error() {
                        PutItemError::ConditionalCheckFailedException(f) => f.item,
                        _ => None,
                    }
                }
                Err(e) => return Err(sdk(OP)(e)),
            };
            let holder = match old {
                Some(attrs) => Some(Item(attrs)),
                None => self.get_item(OP, cooldown_key(key)).await?,
            };
            if let Some(holder) = holder {
                let held = Cooldown::try_from(&holder)?;
                if held.until > now {
                    return Ok(Some(held.until));
                }
            }
        }
        Err(StoreError::Conflict {
            op: OP,
            message: format!("cooldown {key} changed during the claim twice"),
        })
    }

    async fn release_claim(&self, lease: &store::Lease) -> Result<(), StoreError> {
        let key = &lease.key();
        self.client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(cooldown_key(key)))
            .send()
            .await
            .map(|_| ())
            .map_err(sdk("release_claim"))
    }
}

impl DynamoStore {
    /// Deletes `key` if its attribute `attr` is `value`: true when deleted.
    async fn delete_if(
        &self,
        op: &'static str,
        key: Attrs,
        attr: &str,
        value: &str,
    ) -> Result<bool, StoreError> {
        let result = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(key))
            .condition_expression("#a = :v")
            .expression_attribute_names("#a", attr)
            .expression_attribute_values(":v", s(value))
            .send()
            .await;
        applied(op, result)
    }
}
