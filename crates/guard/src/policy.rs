//! The operator-tunable lists of the guard: which hosts count as file sharing, meeting, SNS, LINE or
//! contact links, which domains are always allowed, the platform's own names, and which kinds of finding
//! are enforced.

use serde::{Deserialize, Serialize};

use crate::Kind;

/// What the guard blocks and allows. Built once and handed to [`crate::Guard::new`]; the guard compiles
/// everything it needs from it at that moment, so changing a policy means building a new guard.
///
/// Host lists match a URL's host exactly or as a parent domain (`google.com` would match
/// `drive.google.com`); entries are lower-case ASCII without a scheme. `allowed_domains` wins over every
/// other list.
///
/// **Enforcement.** `enforced` lists the kinds that block. Findings of any other kind are *dropped* from
/// the verdict (not reported, not counted), so an operator who does not want, say, file-sharing links
/// blocked removes [`Kind::FileSharing`] and those messages pass untouched. An empty list disables the
/// guard.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Policy {
    /// Kinds whose findings block a message; findings of other kinds are dropped.
    pub enforced: Vec<Kind>,
    /// Domains never reported (the platform's own, its help centre, …).
    pub allowed_domains: Vec<String>,
    /// File and form sharing hosts (reported as [`Kind::FileSharing`]).
    pub file_sharing_hosts: Vec<String>,
    /// Video meeting and scheduling hosts (reported as [`Kind::UrlContact`]).
    pub meeting_hosts: Vec<String>,
    /// SNS and messenger hosts (reported as [`Kind::Sns`]).
    pub sns_hosts: Vec<String>,
    /// LINE invitation hosts (reported as [`Kind::Line`]).
    pub line_hosts: Vec<String>,
    /// Payment links (reported as [`Kind::PaymentOutside`]).
    pub payment_hosts: Vec<String>,
    /// Link shorteners, link-in-bio pages and form/booking services whose only purpose is to reach
    /// someone (reported as [`Kind::UrlContact`]).
    pub contact_hosts: Vec<String>,
    /// Names of the platform itself, as users write them (used in "outside ココナラ" phrases).
    pub platform_names: Vec<String>,
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

impl Default for Policy {
    /// Every kind enforced; lists suited to a Japanese skill marketplace named ココナラ/coconala.
    fn default() -> Policy {
        Policy {
            enforced: Kind::ALL.to_vec(),
            allowed_domains: strings(&["coconala.com", "coconala.co.jp"]),
            file_sharing_hosts: strings(&[
                "drive.google.com",
                "docs.google.com",
                "forms.gle",
                "sites.google.com",
                "photos.google.com",
                "photos.app.goo.gl",
                "dropbox.com",
                "db.tt",
                "dropboxusercontent.com",
                "onedrive.live.com",
                "1drv.ms",
                "sharepoint.com",
                "gigafile.nu",
                "xgf.nu",
                "wetransfer.com",
                "we.tl",
                "box.com",
                "box.net",
                "firestorage.jp",
                "icloud.com",
                "mega.nz",
                "mediafire.com",
                "send-anywhere.com",
                "ux.getuploader.com",
                "notion.so",
                "notion.site",
                "figma.com",
                "canva.com",
                "canva.link",
                "miro.com",
                "filemail.com",
                "transfer.sh",
                "wetransfer.net",
                "airdrop.jp",
            ]),
            meeting_hosts: strings(&[
                "zoom.us",
                "zoom.com",
                "meet.google.com",
                "teams.microsoft.com",
                "teams.live.com",
                "whereby.com",
                "webex.com",
                "meet.jit.si",
                "calendly.com",
                "timerex.net",
                "spirinc.com",
                "youcanbook.me",
            ]),
            sns_hosts: strings(&[
                "instagram.com",
                "instagr.am",
                "twitter.com",
                "x.com",
                "t.co",
                "tiktok.com",
                "facebook.com",
                "fb.com",
                "fb.me",
                "m.me",
                "messenger.com",
                "t.me",
                "telegram.me",
                "discord.gg",
                "discord.com",
                "discordapp.com",
                "wa.me",
                "whatsapp.com",
                "threads.net",
                "threads.com",
                "bsky.app",
                "skype.com",
                "join.skype.com",
                "slack.com",
                "chatwork.com",
                "kakao.com",
                "qr.kakao.com",
            ]),
            line_hosts: strings(&["line.me", "lin.ee", "line.naver.jp"]),
            payment_hosts: strings(&[
                "paypal.me",
                "paypal.com",
                "buy.stripe.com",
                "checkout.stripe.com",
                "square.link",
                "checkout.square.site",
                "paypay.ne.jp",
                "kyash.me",
                "wise.com",
                "venmo.com",
                "pay.line.me",
            ]),
            contact_hosts: strings(&[
                "bit.ly",
                "tinyurl.com",
                "is.gd",
                "ow.ly",
                "buff.ly",
                "cutt.ly",
                "rebrand.ly",
                "x.gd",
                "lit.link",
                "linktr.ee",
                "linkin.bio",
                "profu.link",
                "potofu.me",
                "tayori.com",
                "form.run",
                "formrun.jp",
                "typeform.com",
                "jotform.com",
                "formzu.net",
                "questant.jp",
                "coubic.com",
                "reserva.be",
                "airrsv.net",
            ]),
            platform_names: strings(&["ココナラ", "coconala", "ここなら"]),
        }
    }
}

impl Policy {
    /// Whether findings of `kind` block under this policy.
    pub fn enforces(&self, kind: Kind) -> bool {
        self.enforced.contains(&kind)
    }
}

/// Whether `host` equals `domain` or is a sub-domain of it.
pub(crate) fn host_matches(host: &str, domain: &str) -> bool {
    host == domain
        || (host.len() > domain.len()
            && host.ends_with(domain)
            && host.as_bytes()[host.len() - domain.len() - 1] == b'.')
}

/// Whether `host` matches any entry of `list`.
pub(crate) fn host_in(host: &str, list: &[String]) -> bool {
    list.iter().any(|d| host_matches(host, d))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_lists_match_sub_domains_but_not_look_alike_suffixes() {
        assert!(host_matches("drive.google.com", "drive.google.com"));
        assert!(host_matches("www.dropbox.com", "dropbox.com"));
        assert!(!host_matches("notdropbox.com", "dropbox.com"));
        assert!(!host_matches("com", "dropbox.com"));
    }

    #[test]
    fn the_default_policy_enforces_every_kind() {
        let p = Policy::default();
        for k in Kind::ALL {
            assert!(p.enforces(k));
        }
    }
}
