//! The Xero payroll pull (`POST /api/people/{id}/xero-sync`) and the one-user refresh
//! (`POST /api/admin/users/{id}/sync`, which queues this pull in the background).
//!
//! A pull asks Xero first whether the employee changed since the last pull
//! (`If-Modified-Since` on the filtered listing): an unchanged employee costs one call and
//! writes nothing, not even an audit event. A changed one is read in full with the
//! tenant's super funds, mapped to Roster's record by [`to_record`], and written with its
//! audit event in one transaction; the financial section is sealed by the vault first.
//! Payroll codes are mapped in the Xero client (`roster_providers::xero`), not here.

use roster_domain::model::{Contact, Demographics, Financial};
use roster_domain::payroll::{self, BankAccount, PayrollRecord};
use roster_domain::{OrgId, PersonId, Provider};
use roster_providers::{SuperFund, XeroEmployee, XeroTenantAccess, join_super_funds};
use roster_vault::SecretString;
use serde_json::json;
use uuid::Uuid;

use crate::audit::{Actor, record};
use crate::{App, Can, Error, ManagePeople, Result, secrets};

/// What a pull did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PullOutcome {
    /// The person's record was rewritten from Xero.
    Updated,
    /// Xero reported no change since the last pull; nothing was written.
    Unchanged,
}

/// The employee's payroll record in Roster's terms: the remainder bank account, the first
/// super membership with its fund's name and type, the home address on one line.
pub fn to_record(e: &XeroEmployee, funds: &[SuperFund]) -> PayrollRecord {
    let accounts: Vec<BankAccount> = e
        .bank_accounts
        .iter()
        .map(|b| BankAccount {
            account_name: b.account_name.clone(),
            bsb: b.bsb.clone(),
            account_number: b.account_number.clone(),
            remainder: b.remainder,
        })
        .collect();
    let bank = payroll::main_account(&accounts);
    let membership = join_super_funds(e, funds).into_iter().next();
    let home_address = e.home_address.as_ref().and_then(|a| {
        payroll::address_line([
            Some(a.line1.as_str()),
            a.line2.as_deref(),
            a.city.as_deref(),
            a.region.as_deref(),
            a.postal_code.as_deref(),
            a.country.as_deref(),
        ])
    });
    PayrollRecord {
        start_date: e.start_date,
        end_date: e.termination_date,
        employment_status: Some(e.status),
        employment_basis: e.employment_basis,
        contact: Contact {
            phone: e.phone.clone(),
            mobile: e.mobile.clone(),
            // Xero holds the email payroll writes to, which is the person's own.
            personal_email: e.email.as_ref().map(ToString::to_string),
            home_address,
        },
        demographics: Demographics {
            gender: e.gender,
            date_of_birth: e.date_of_birth,
        },
        financial: Financial {
            super_fund_name: membership.as_ref().and_then(|m| m.fund_name.clone()),
            super_fund_type: membership
                .as_ref()
                .and_then(|m| m.fund_type)
                .map(|t| t.as_str().to_owned()),
            super_member_number: membership.map(|m| m.member_number),
            bank_account_name: bank.and_then(|b| b.account_name.clone()),
            bank_bsb: bank.and_then(|b| b.bsb.clone()),
            bank_account_number: bank.and_then(|b| b.account_number.clone()),
        },
    }
}

impl App {
    /// `POST /api/people/{id}/xero-sync` (manage:people).
    pub async fn pull_xero_payroll(
        &self,
        can: &Can<ManagePeople>,
        person: PersonId,
    ) -> Result<PullOutcome> {
        let caller = can.caller();
        self.pull_payroll(caller.org_id(), caller.actor(), person)
            .await
    }

    /// The pull itself, for any caller (the API, the one-user refresh in the background).
    pub async fn pull_payroll(
        &self,
        org: OrgId,
        actor: Actor<'_>,
        person: PersonId,
    ) -> Result<PullOutcome> {
        let mut tx = self.store.read_one().await?;
        let state = tx.org(org).payroll_state(person).await?;
        tx.rollback().await?;
        let Some(linked) = state.xero_id else {
            return Err(Error::NotLinked(Provider::Xero));
        };
        // Xero ids are UUIDs (the user mappings and xero-link refuse anything else).
        let employee_id = Uuid::parse_str(&linked).map_err(|_| Error::NotLinked(Provider::Xero))?;
        let client = self.xero_client()?;
        let access = self.xero_access(org).await?;
        let tenant = XeroTenantAccess {
            access_token: &access.access_token,
            tenant_id: access.tenant_id,
        };
        let fetched = async {
            if let Some(since) = state.xero_synced_at
                && !client
                    .employee_changed_since(&tenant, employee_id, since)
                    .await?
            {
                return Ok(None);
            }
            let employee = client.employee(&tenant, employee_id).await?;
            let funds = if employee.super_memberships.is_empty() {
                Vec::new()
            } else {
                client.super_funds(&tenant).await?
            };
            Ok(Some((employee, funds)))
        };
        let (employee, funds) = match fetched.await {
            Ok(Some(v)) => v,
            Ok(None) => {
                self.note_provider_success(org, Provider::Xero).await;
                return Ok(PullOutcome::Unchanged);
            }
            Err(e) => {
                self.note_provider_failure(org, Provider::Xero, &e).await;
                return Err(Error::Provider(e));
            }
        };
        let record_ = to_record(&employee, &funds);
        let plain = serde_json::to_string(&record_.financial)
            .map_err(|_| Error::Vault(roster_vault::Error::Malformed))?;
        let sealed = self.keys.encrypt_str(
            &SecretString::from(plain),
            &secrets::person_financial(org, person),
        );
        let now = self.clock.now();
        let mut tx = self.store.begin().await?;
        let mut scoped = tx.org(org);
        scoped
            .save_payroll(person, &record_, sealed.as_bytes(), now)
            .await?;
        record(
            &mut scoped,
            now,
            actor,
            "person.xero_sync",
            ("person", Some(person.to_string())),
            // Which sections were written, never their values.
            json!({
                "xero_employee_id": linked,
                "sections": ["employment", "contact", "demographics", "financial"],
            }),
        )
        .await?;
        tx.commit().await?;
        self.note_provider_success(org, Provider::Xero).await;
        Ok(PullOutcome::Updated)
    }
}

#[cfg(test)]
mod tests {
    use roster_domain::{EmploymentBasis, EmploymentStatus, Gender};
    use roster_providers::{
        SuperFundType, XeroAddress, XeroBankAccount, XeroEmployee, XeroSuperMembership,
    };

    use super::*;

    fn employee() -> XeroEmployee {
        XeroEmployee {
            employee_id: Uuid::from_u128(1),
            title: None,
            first_name: "Zoë".into(),
            middle_names: None,
            last_name: "Núñez".into(),
            status: EmploymentStatus::Active,
            email: None,
            date_of_birth: None,
            gender: Some(Gender::Female),
            phone: None,
            mobile: Some("0400 000 000".into()),
            start_date: None,
            termination_date: None,
            job_title: None,
            employment_basis: Some(EmploymentBasis::PartTime),
            home_address: Some(XeroAddress {
                line1: "1 Main St".into(),
                line2: None,
                city: Some("Carlton".into()),
                region: Some("VIC".into()),
                postal_code: Some("3053".into()),
                country: Some("AUSTRALIA".into()),
            }),
            bank_accounts: vec![
                XeroBankAccount {
                    account_name: Some("Savings".into()),
                    bsb: Some("111111".into()),
                    account_number: Some("1".into()),
                    remainder: false,
                },
                XeroBankAccount {
                    account_name: Some("Everyday".into()),
                    bsb: Some("222222".into()),
                    account_number: Some("2".into()),
                    remainder: true,
                },
            ],
            super_memberships: vec![XeroSuperMembership {
                membership_id: None,
                fund_id: Uuid::from_u128(9),
                member_number: "M-9".into(),
            }],
            updated_at: None,
        }
    }

    #[test]
    fn a_payroll_record_takes_the_remainder_account_and_the_joined_fund() {
        let funds = [SuperFund {
            id: Uuid::from_u128(9),
            fund_type: SuperFundType::SelfManaged,
            name: Some("Family SMSF".into()),
            abn: None,
            usi: None,
        }];
        let r = to_record(&employee(), &funds);
        assert_eq!(r.financial.bank_bsb.as_deref(), Some("222222"));
        assert_eq!(r.financial.super_fund_name.as_deref(), Some("Family SMSF"));
        assert_eq!(r.financial.super_fund_type.as_deref(), Some("smsf"));
        assert_eq!(r.financial.super_member_number.as_deref(), Some("M-9"));
        assert_eq!(
            r.contact.home_address.as_deref(),
            Some("1 Main St, Carlton, VIC, 3053, AUSTRALIA")
        );
        assert_eq!(r.employment_basis, Some(EmploymentBasis::PartTime));
        assert_eq!(r.demographics.gender, Some(Gender::Female));
        let unknown_fund = to_record(&employee(), &[]);
        assert_eq!(unknown_fund.financial.super_fund_name, None);
        assert_eq!(
            unknown_fund.financial.super_member_number.as_deref(),
            Some("M-9")
        );
    }
}
