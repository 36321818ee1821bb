//! The profile part of creating and changing a user (issue 14): the attributes SCIM carries and
//! the Adobe template's identity type and country, as the REST API and SCIM both send them,
//! parsed with the core's rules into a `UserProfile`, every problem reported at once; and the
//! organisation's identity-provider-owned attributes, which local edits may not change.

use rolecall_core::error::Problems;
use rolecall_core::model::{
    with_sign_in_email, Address, EmailEntry, IdentityType, PhoneEntry, User, UserProfile,
};
use rolecall_core::settings::{IdpAttribute, ProvisioningSettings};
use rolecall_core::validate::{
    AttributeText, CountryCode, Email, ExternalId, LanguageTag, Timezone,
};
use rolecall_core::FieldError;
use serde::{Deserialize, Deserializer};

/// One e-mail address as sent.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EmailInput {
    pub value: String,
    /// `work`, `home`, `other`, …
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub primary: Option<bool>,
    pub display: Option<String>,
}

/// One phone number as sent.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PhoneInput {
    pub value: String,
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub primary: Option<bool>,
}

/// One postal address as sent.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddressInput {
    pub formatted: Option<String>,
    pub street_address: Option<String>,
    pub locality: Option<String>,
    pub region: Option<String>,
    pub postal_code: Option<String>,
    pub country: Option<String>,
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub primary: Option<bool>,
}

/// `Some(None)` for an explicit `null`, `None` when the field is absent (JSON merge patch).
pub(crate) fn nullable<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

/// The profile's free-text attributes, by REST field name: one table drives parsing, storage
/// and the identity-provider ownership check.
pub(crate) type TextSlot = fn(&mut UserProfile) -> &mut Option<AttributeText>;

pub(crate) const TEXT_FIELDS: [(&str, IdpAttribute, TextSlot); 13] = [
    ("display_name", IdpAttribute::DisplayName, |p| {
        &mut p.display_name
    }),
    ("nick_name", IdpAttribute::NickName, |p| &mut p.nick_name),
    ("title", IdpAttribute::Title, |p| &mut p.title),
    ("user_type", IdpAttribute::UserType, |p| &mut p.user_type),
    ("name_formatted", IdpAttribute::NameFormatted, |p| {
        &mut p.name_formatted
    }),
    ("middle_name", IdpAttribute::MiddleName, |p| {
        &mut p.middle_name
    }),
    ("honorific_prefix", IdpAttribute::HonorificPrefix, |p| {
        &mut p.honorific_prefix
    }),
    ("honorific_suffix", IdpAttribute::HonorificSuffix, |p| {
        &mut p.honorific_suffix
    }),
    ("employee_number", IdpAttribute::EmployeeNumber, |p| {
        &mut p.employee_number
    }),
    ("cost_center", IdpAttribute::CostCenter, |p| {
        &mut p.cost_center
    }),
    ("organization", IdpAttribute::Organization, |p| {
        &mut p.organization
    }),
    ("division", IdpAttribute::Division, |p| &mut p.division),
    ("department", IdpAttribute::Department, |p| {
        &mut p.department
    }),
];

/// What a create or a change says about the profile: for each attribute, `None` to leave it,
/// `Some(None)` to unset it, `Some(Some(v))` to set it.
#[derive(Debug, Clone, Default)]
pub(crate) struct ProfileChange<'a> {
    pub texts: Vec<(&'static str, Option<Option<&'a str>>)>,
    pub identity_type: Option<Option<&'a str>>,
    pub country_code: Option<Option<&'a str>>,
    pub external_id: Option<Option<&'a str>>,
    pub preferred_language: Option<Option<&'a str>>,
    pub timezone: Option<Option<&'a str>>,
    pub manager_id: Option<Option<&'a str>>,
    pub emails: Option<&'a [EmailInput]>,
    pub phone_numbers: Option<&'a [PhoneInput]>,
    pub addresses: Option<&'a [AddressInput]>,
}

fn text(p: &mut Problems, field: &str, v: &str) -> Option<Option<AttributeText>> {
    p.check(AttributeText::parse_optional(field, v))
}

fn opt_text(p: &mut Problems, field: &str, v: Option<&str>) -> Option<AttributeText> {
    v.and_then(|v| text(p, field, v).flatten())
}

/// Applies `change` to `profile`, collecting every problem.
pub(crate) fn apply(p: &mut Problems, profile: &mut UserProfile, change: &ProfileChange<'_>) {
    for (field, value) in &change.texts {
        let Some(value) = value else { continue };
        let Some((_, _, slot)) = TEXT_FIELDS.iter().find(|(f, _, _)| f == field) else {
            continue;
        };
        let parsed = match value {
            None => Some(None),
            Some(v) => text(p, field, v),
        };
        if let Some(v) = parsed {
            *slot(profile) = v;
        }
    }
    if let Some(v) = change.identity_type {
        match v {
            None => profile.identity_type = IdentityType::default(),
            Some(v) => {
                if let Some(t) = p.check(IdentityType::parse("identity_type", v)) {
                    profile.identity_type = t;
                }
            }
        }
    }
    macro_rules! optional {
        ($field:ident, $ty:ty) => {
            if let Some(v) = change.$field {
                match v.filter(|s| !s.trim().is_empty()) {
                    None => profile.$field = None,
                    Some(s) => {
                        if let Some(t) = p.check(<$ty>::parse(stringify!($field), s)) {
                            profile.$field = Some(t);
                        }
                    }
                }
            }
        };
    }
    optional!(country_code, CountryCode);
    optional!(external_id, ExternalId);
    optional!(preferred_language, LanguageTag);
    optional!(timezone, Timezone);
    optional!(manager_id, ExternalId);
    if let Some(list) = change.emails {
        let mut out = Vec::with_capacity(list.len());
        for (i, e) in list.iter().enumerate() {
            let f = |name: &str| format!("emails[{i}].{name}");
            let value = p.check(Email::parse(&f("value"), &e.value));
            let kind = opt_text(p, &f("type"), e.kind.as_deref());
            let display = opt_text(p, &f("display"), e.display.as_deref());
            if let Some(value) = value {
                out.push(EmailEntry {
                    value,
                    kind,
                    primary: e.primary.unwrap_or(false),
                    display,
                });
            }
        }
        profile.emails = out;
    }
    if let Some(list) = change.phone_numbers {
        let mut out = Vec::with_capacity(list.len());
        for (i, ph) in list.iter().enumerate() {
            let f = |name: &str| format!("phone_numbers[{i}].{name}");
            let value = p.check(AttributeText::parse(&f("value"), &ph.value));
            let kind = opt_text(p, &f("type"), ph.kind.as_deref());
            if let Some(value) = value {
                out.push(PhoneEntry {
                    value,
                    kind,
                    primary: ph.primary.unwrap_or(false),
                });
            }
        }
        only_one_primary(&mut out, |e| &mut e.primary);
        profile.phone_numbers = out;
    }
    if let Some(list) = change.addresses {
        let mut out = Vec::with_capacity(list.len());
        for (i, a) in list.iter().enumerate() {
            let f = |name: &str| format!("addresses[{i}].{name}");
            let address = Address {
                formatted: opt_text(p, &f("formatted"), a.formatted.as_deref()),
                street_address: opt_text(p, &f("street_address"), a.street_address.as_deref()),
                locality: opt_text(p, &f("locality"), a.locality.as_deref()),
                region: opt_text(p, &f("region"), a.region.as_deref()),
                postal_code: opt_text(p, &f("postal_code"), a.postal_code.as_deref()),
                country: opt_text(p, &f("country"), a.country.as_deref()),
                kind: opt_text(p, &f("type"), a.kind.as_deref()),
                primary: a.primary.unwrap_or(false),
            };
            if !address.is_empty() {
                out.push(address);
            }
        }
        only_one_primary(&mut out, |e| &mut e.primary);
        profile.addresses = out;
    }
}

/// RFC 7643 §2.4: at most one value of a multi-valued attribute is primary (the first wins).
fn only_one_primary<T>(items: &mut [T], primary: fn(&mut T) -> &mut bool) {
    let mut seen = false;
    for item in items.iter_mut() {
        let flag = primary(item);
        if *flag && seen {
            *flag = false;
        }
        seen |= *flag;
    }
}

/// Makes the sign-in address the primary e-mail (see `model::with_sign_in_email`).
pub(crate) fn settle_emails(user: &mut User) {
    let emails = std::mem::take(&mut user.profile.emails);
    user.profile.emails = with_sign_in_email(&user.email, emails);
}

/// The attributes owned by the identity provider that `next` changes on a provisioned user:
/// local edits of them are refused, naming each field.
pub(crate) fn idp_owned_changes(
    settings: &ProvisioningSettings,
    current: &User,
    next: &User,
) -> Vec<FieldError> {
    if current.provisioned_by.is_none() {
        return Vec::new();
    }
    let (c, n) = (&current.profile, &next.profile);
    let mut changed: Vec<IdpAttribute> = Vec::new();
    let mut diff = |attr: IdpAttribute, differs: bool| {
        if differs {
            changed.push(attr);
        }
    };
    diff(IdpAttribute::Username, current.username != next.username);
    diff(IdpAttribute::Email, current.email != next.email);
    diff(
        IdpAttribute::FirstName,
        current.first_name != next.first_name,
    );
    diff(IdpAttribute::LastName, current.last_name != next.last_name);
    diff(IdpAttribute::Status, current.status != next.status);
    diff(IdpAttribute::Locale, current.locale != next.locale);
    diff(
        IdpAttribute::PreferredLanguage,
        c.preferred_language != n.preferred_language,
    );
    diff(IdpAttribute::Timezone, c.timezone != n.timezone);
    diff(IdpAttribute::ExternalId, c.external_id != n.external_id);
    diff(IdpAttribute::Emails, c.emails != n.emails);
    diff(
        IdpAttribute::PhoneNumbers,
        c.phone_numbers != n.phone_numbers,
    );
    diff(IdpAttribute::Addresses, c.addresses != n.addresses);
    diff(IdpAttribute::ManagerId, c.manager_id != n.manager_id);
    for (_, attr, slot) in TEXT_FIELDS {
        let mut a = c.clone();
        let mut b = n.clone();
        diff(attr, slot(&mut a) != slot(&mut b));
    }
    changed
        .into_iter()
        .filter(|a| settings.owns(*a))
        .map(|a| {
            FieldError::new(
                a.field(),
                "idp_owned",
                "is owned by the identity provider for provisioned users: change it there",
            )
        })
        .collect()
}
