//! Contract test: what the fakes answer must fit the providers' published schemas.
//!
//! Every key a fake returns must exist in the schema with the right JSON type, enum values must
//! be allowed ones, and required fields must be present. The specs are the copies in `spec/`
//! (see `spec/README.md`). A failure means the fake invented or mistyped a field, so a client
//! written against the fake would break against the provider.

#![expect(
    clippy::unwrap_used,
    reason = "test helpers: a failed setup or request should panic"
)]

use std::sync::Arc;

use roster_company::SampleCompany;
use roster_domain::ManualClock;
use roster_fakes::google::{GoogleFake, SCOPE_CALENDAR_READONLY, SCOPE_DIRECTORY_USER_READONLY};
use roster_fakes::xero::XeroFake;
use serde_json::Value;

fn load_yaml(relative: &str) -> Value {
    serde_yaml_ng::from_str(&roster_fakes::spec_text(relative).unwrap()).unwrap()
}

fn load_json(relative: &str) -> Value {
    serde_json::from_str(&roster_fakes::spec_text(relative).unwrap()).unwrap()
}

/// What both schema dialects check the same way: allowed enum values, array items, and the
/// JSON type of a leaf. Each dialect resolves references and checks objects itself.
trait Validator {
    fn errors(&mut self) -> &mut Vec<String>;

    fn check(&mut self, value: &Value, schema: &Value, at: &str);

    fn check_enum(&mut self, value: &Value, schema: &Value, at: &str) {
        if let Some(allowed) = schema.get("enum").and_then(Value::as_array) {
            if !allowed.contains(value) {
                self.errors()
                    .push(format!("{at}: {value} is not one of {allowed:?}"));
            }
        }
    }

    /// Checks `value` against a schema of type `kind` other than `object`.
    fn check_type(&mut self, kind: &str, value: &Value, schema: &Value, at: &str) {
        let (ok, expected) = match kind {
            "array" => {
                let Some(items) = value.as_array() else {
                    return self
                        .errors()
                        .push(format!("{at}: expected an array, got {value}"));
                };
                for (i, item) in items.iter().enumerate() {
                    self.check(item, &schema["items"], &format!("{at}[{i}]"));
                }
                return;
            }
            "string" => (value.is_string(), "a string"),
            "number" => (value.is_number(), "a number"),
            "integer" => (value.is_i64() || value.is_u64(), "an integer"),
            "boolean" => (value.is_boolean(), "a boolean"),
            other => {
                return self.errors().push(format!(
                    "{at}: schema type {other:?} not understood by the test"
                ));
            }
        };
        if !ok {
            self.errors()
                .push(format!("{at}: expected {expected}, got {value}"));
        }
    }
}

/// Validates against OpenAPI 3 schemas (the subset Xero's files use).
struct OpenApi<'a> {
    doc: &'a Value,
    errors: Vec<String>,
}

impl<'a> OpenApi<'a> {
    fn new(doc: &'a Value) -> Self {
        Self {
            doc,
            errors: Vec::new(),
        }
    }

    fn resolve<'s>(&'s self, schema: &'s Value) -> &'s Value {
        match schema.get("$ref").and_then(Value::as_str) {
            Some(r) => {
                let pointer = r.trim_start_matches('#');
                self.resolve(
                    self.doc
                        .pointer(pointer)
                        .unwrap_or_else(|| panic!("dangling $ref {r}")),
                )
            }
            None => schema,
        }
    }

    fn check_object(&mut self, value: &Value, schema: &Value, at: &str) {
        let Some(map) = value.as_object() else {
            self.errors
                .push(format!("{at}: expected an object, got {value}"));
            return;
        };
        let properties = schema
            .get("properties")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        for (key, field) in map {
            match properties.get(key) {
                Some(property) => self.check(field, property, &format!("{at}.{key}")),
                None => self.errors.push(format!("{at}.{key}: not in the schema")),
            }
        }
        for required in schema
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let name = required.as_str().unwrap_or_default();
            if !map.contains_key(name) {
                self.errors
                    .push(format!("{at}.{name}: required but missing"));
            }
        }
    }
}

impl Validator for OpenApi<'_> {
    fn errors(&mut self) -> &mut Vec<String> {
        &mut self.errors
    }

    fn check(&mut self, value: &Value, schema: &Value, at: &str) {
        let schema = self.resolve(schema).clone();
        self.check_enum(value, &schema, at);
        let kind = schema.get("type").and_then(Value::as_str).unwrap_or(
            if schema.get("properties").is_some() {
                "object"
            } else {
                ""
            },
        );
        let ms_date =
            schema.get("x-is-msdate").is_some() || schema.get("x-is-msdate-time").is_some();
        match (kind, value.as_str()) {
            ("object", _) => self.check_object(value, &schema, at),
            ("string", Some(text)) if ms_date => check_ms_date(text, true, at, &mut self.errors),
            _ => self.check_type(kind, value, &schema, at),
        }
    }
}

/// `/Date(1573621523465+0000)/`, or without the offset for the envelope's `DateTimeUTC`.
fn check_ms_date(raw: &str, offset: bool, at: &str, errors: &mut Vec<String>) {
    let inner = raw
        .strip_prefix("/Date(")
        .and_then(|r| r.strip_suffix(")/"));
    // Dates before 1970 are negative, as .NET writes them: `/Date(-114307200000+0000)/`.
    let ok = inner
        .map(|i| i.strip_prefix('-').unwrap_or(i))
        .is_some_and(|inner| {
            let (ms, zone) = inner.split_at(inner.find(['+', '-']).unwrap_or(inner.len()));
            let zone_ok = if offset {
                zone.len() == 5 && zone[1..].chars().all(|c| c.is_ascii_digit())
            } else {
                zone.is_empty()
            };
            !ms.is_empty() && ms.chars().all(|c| c.is_ascii_digit()) && zone_ok
        });
    if !ok {
        errors.push(format!("{at}: {raw:?} is not an MS date"));
    }
}

/// Checks a Payroll AU answer: the envelope keys the spec's example shows for the operation,
/// then the body against the operation's 200 schema.
fn check_payroll(doc: &Value, path: &str, body: &Value) -> Vec<String> {
    let ok = &doc["paths"][path]["get"]["responses"]["200"]["content"]["application/json"];
    let envelope: Vec<&str> = ok["example"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    let mut validator = OpenApi::new(doc);
    let mut payload = body.clone();
    for key in ["Id", "Status", "ProviderName", "DateTimeUTC"] {
        assert!(
            envelope.contains(&key),
            "{key} is not in the spec's example envelope"
        );
        let Some(value) = payload.as_object_mut().and_then(|m| m.remove(key)) else {
            validator
                .errors
                .push(format!("{path}: envelope key {key} missing"));
            continue;
        };
        if key == "DateTimeUTC" {
            check_ms_date(
                value.as_str().unwrap_or_default(),
                false,
                "DateTimeUTC",
                &mut validator.errors,
            );
        } else if !value.is_string() {
            validator
                .errors
                .push(format!("{path}: envelope {key} should be a string"));
        }
    }
    validator.check(&payload, &ok["schema"], path);
    validator.errors
}

fn assert_no_violations(errors: &[String]) {
    assert!(
        errors.is_empty(),
        "{} contract violations:\n{}",
        errors.len(),
        errors.join("\n")
    );
}

/// The JSON body of a GET with `token`, whatever the status.
async fn get_json(url: impl reqwest::IntoUrl, token: &str) -> Value {
    reqwest::Client::new()
        .get(url)
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

async fn xero_get(fake: &XeroFake, token: &str, path: &str) -> Value {
    let response = reqwest::Client::new()
        .get(format!("{}{path}", fake.payroll_url()))
        .bearer_auth(token)
        .header("xero-tenant-id", fake.tenant_id().to_string())
        .header("accept", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "{path}");
    response.json().await.unwrap()
}

#[tokio::test]
async fn xero_employees_superfunds_and_connections_fit_the_published_spec() {
    let company = Arc::new(SampleCompany::generate(77, 400));
    let fake = XeroFake::start(company.clone(), Arc::new(ManualClock::default()))
        .await
        .unwrap();
    let tokens = fake.issue_tokens("ROSTERDEMO", "payroll.employees.read payroll.settings.read");
    let payroll = load_yaml("xero/xero-payroll-au.yaml");
    let mut errors = Vec::new();

    for page in 1..=4 {
        let body = xero_get(
            &fake,
            &tokens.access_token,
            &format!("/Employees?page={page}"),
        )
        .await;
        errors.extend(check_payroll(&payroll, "/Employees", &body));
    }
    // Detail records of every kind of person: contractor, leaver, SMSF member, split pay.
    let interesting = company
        .people
        .iter()
        .filter(|p| p.xero_employee_id.is_some())
        .filter(|p| {
            p.is_contractor
                || p.is_leaver
                || p.bank_accounts.len() > 1
                || p.home_address.as_ref().is_some_and(|a| a.line2.is_some())
                || p.super_membership
                    .as_ref()
                    .is_some_and(|m| m.fund == company.super_funds.len() - 1)
        });
    let mut checked = 0;
    for person in interesting.take(40) {
        let body = xero_get(
            &fake,
            &tokens.access_token,
            &format!("/Employees/{}", person.xero_employee_id.unwrap()),
        )
        .await;
        errors.extend(check_payroll(&payroll, "/Employees/{EmployeeID}", &body));
        checked += 1;
    }
    assert!(checked >= 10, "only {checked} detail records checked");
    let funds = xero_get(&fake, &tokens.access_token, "/Superfunds").await;
    errors.extend(check_payroll(&payroll, "/Superfunds", &funds));

    let identity = load_yaml("xero/xero-identity.yaml");
    let connections: Value = get_json(
        format!("{}/connections", fake.api_url()),
        &tokens.access_token,
    )
    .await;
    assert_eq!(connections.as_array().map(Vec::len), Some(1));
    let schema = &identity["paths"]["/Connections"]["get"]["responses"]["200"]["content"]["application/json"]
        ["schema"];
    let mut validator = OpenApi::new(&identity);
    validator.check(&connections, schema, "/connections");
    errors.extend(validator.errors);

    assert_no_violations(&errors);
}

/// Validates against a Google discovery document's schemas.
struct Discovery<'a> {
    doc: &'a Value,
    errors: Vec<String>,
}

impl<'a> Discovery<'a> {
    fn new(doc: &'a Value) -> Self {
        Self {
            doc,
            errors: Vec::new(),
        }
    }

    fn schema(&self, id: &str) -> Value {
        self.doc["schemas"]
            .get(id)
            .cloned()
            .unwrap_or_else(|| panic!("no schema {id}"))
    }

    fn check_object(&mut self, value: &Value, schema: &Value, at: &str) {
        let Some(map) = value.as_object() else {
            return self
                .errors
                .push(format!("{at}: expected an object, got {value}"));
        };
        let properties = schema
            .get("properties")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        let additional = schema.get("additionalProperties").cloned();
        for (key, field) in map {
            match (properties.get(key), &additional) {
                (Some(p), _) => self.check(field, p, &format!("{at}.{key}")),
                (None, Some(a)) => self.check(field, a, &format!("{at}.{key}")),
                (None, None) => self.errors.push(format!("{at}.{key}: not in the schema")),
            }
        }
    }

    /// The discovery document types these `User` fields as `any`; on the wire they are arrays
    /// of the named item schemas (docs/providers.md §3).
    fn check_any(&mut self, value: &Value, at: &str) {
        let item = match at.rsplit('.').next().unwrap_or_default() {
            "organizations" => "UserOrganization",
            "relations" => "UserRelation",
            "emails" => "UserEmail",
            "phones" => "UserPhone",
            "externalIds" => "UserExternalId",
            "addresses" => "UserAddress",
            _ => return,
        };
        let schema = serde_json::json!({ "type": "array", "items": { "$ref": item } });
        self.check(value, &schema, at);
    }
}

impl Validator for Discovery<'_> {
    fn errors(&mut self) -> &mut Vec<String> {
        &mut self.errors
    }

    fn check(&mut self, value: &Value, schema: &Value, at: &str) {
        if let Some(id) = schema.get("$ref").and_then(Value::as_str) {
            let resolved = self.schema(id);
            return self.check(value, &resolved, at);
        }
        self.check_enum(value, schema, at);
        match schema
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or_default()
        {
            "object" => self.check_object(value, schema, at),
            "any" => self.check_any(value, at),
            // Any JSON number passes for a discovery `integer`, as it always has in this test.
            "integer" => self.check_type("number", value, schema, at),
            kind => self.check_type(kind, value, schema, at),
        }
    }
}

#[tokio::test]
async fn google_users_list_and_calendar_fit_the_discovery_documents() {
    let company = Arc::new(SampleCompany::generate(78, 300));
    let fake = GoogleFake::start(company.clone(), Arc::new(ManualClock::default()))
        .await
        .unwrap();
    let admin = company.google_admin().email.clone();
    let token = fake.issue_access_token(
        admin.as_deref(),
        &[SCOPE_DIRECTORY_USER_READONLY, SCOPE_CALENDAR_READONLY],
    );
    let directory = load_json("google/admin-directory_v1.json");
    let mut validator = Discovery::new(&directory);
    let response_ref = directory["resources"]["users"]["methods"]["list"]["response"]["$ref"]
        .as_str()
        .unwrap()
        .to_owned();
    // Fields the discovery document marks required to create a user, less the write-only password.
    let required: Vec<String> = directory["schemas"]["User"]["properties"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(_, p)| {
            p["annotations"]["required"]
                .as_array()
                .is_some_and(|r| r.iter().any(|m| m == "directory.users.insert"))
        })
        .map(|(k, _)| k.clone())
        .filter(|k| k != "password")
        .collect();
    assert!(required.contains(&"primaryEmail".to_owned()));

    let mut page_token: Option<String> = None;
    let mut users = 0;
    loop {
        let mut url = format!(
            "{}/users?customer=my_customer&maxResults=200",
            fake.directory_url()
        );
        if let Some(t) = &page_token {
            url = format!("{url}&pageToken={t}");
        }
        let body: Value = get_json(url, &token).await;
        validator.check(
            &body,
            &serde_json::json!({ "$ref": response_ref }),
            "users.list",
        );
        for user in body["users"].as_array().into_iter().flatten() {
            users += 1;
            for field in &required {
                if user.get(field).is_none() {
                    validator
                        .errors
                        .push(format!("user {}: required {field} missing", user["id"]));
                }
            }
        }
        match body.get("nextPageToken").and_then(Value::as_str) {
            Some(t) => page_token = Some(t.to_owned()),
            None => break,
        }
    }
    assert!(users > 250);
    let mut errors = validator.errors;

    let calendar = load_json("google/calendar-v3.json");
    let mut validator = Discovery::new(&calendar);
    let get_ref = calendar["resources"]["calendars"]["methods"]["get"]["response"]["$ref"]
        .as_str()
        .unwrap()
        .to_owned();
    for id in [fake.leave_calendar_id(), "primary".to_owned()] {
        let body: Value = get_json(format!("{}/calendars/{id}", fake.calendar_url()), &token).await;
        validator.check(
            &body,
            &serde_json::json!({ "$ref": get_ref }),
            &format!("calendars.get({id})"),
        );
    }
    errors.extend(validator.errors);
    assert_no_violations(&errors);
}

#[test]
fn the_validators_catch_unknown_mistyped_and_missing_fields() {
    let payroll = load_yaml("xero/xero-payroll-au.yaml");
    let mut xero = OpenApi::new(&payroll);
    let bad = serde_json::json!({ "Employees": [{
        "FirstName": "Ann", "DateOfBirth": "1990-01-01", "Gender": "X", "Nickname": "A",
        "HomeAddress": { "City": 3 }, "TaxDeclaration": { "EmploymentBasis": "FULLTIME" },
    }]});
    xero.check(
        &bad,
        &serde_json::json!({ "$ref": "#/components/schemas/Employees" }),
        "e",
    );
    for expected in [
        "e.Employees[0].LastName: required but missing",
        "e.Employees[0].DateOfBirth: \"1990-01-01\" is not an MS date",
        "e.Employees[0].Nickname: not in the schema",
        "e.Employees[0].HomeAddress.City: expected a string, got 3",
        "e.Employees[0].HomeAddress.AddressLine1: required but missing",
    ] {
        assert!(
            xero.errors.iter().any(|e| e == expected),
            "{expected} not in {:#?}",
            xero.errors
        );
    }
    assert!(
        xero.errors
            .iter()
            .any(|e| e.starts_with("e.Employees[0].Gender: \"X\" is not one of"))
    );

    let directory = load_json("google/admin-directory_v1.json");
    let mut google = Discovery::new(&directory);
    let user = serde_json::json!({ "primaryEmail": 7, "managerEmail": "x", "relations": [{ "type": "manager", "email": "x" }] });
    google.check(&user, &serde_json::json!({ "$ref": "User" }), "u");
    assert_eq!(
        google.errors,
        [
            "u.managerEmail: not in the schema",
            "u.primaryEmail: expected a string, got 7",
            "u.relations[0].email: not in the schema"
        ]
    );
}
