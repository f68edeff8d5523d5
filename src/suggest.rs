//! "Did you mean": the closest of a list of names to what was typed (subcommands, indicators,
//! counties, sheet names), by edit distance over folded text (`units::fold`).

/// The candidate closest to `given`, when it is close enough to be a likely typo: at most one
/// edit for a short name, about a third of its length for a longer one. Ties keep the first.
pub fn did_you_mean<'a>(
    given: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let typed = crate::units::fold(given);
    if typed.is_empty() {
        return None;
    }
    let limit = (typed.chars().count() / 3).max(1);
    let mut best: Option<(usize, &'a str)> = None;
    for candidate in candidates {
        let folded = crate::units::fold(candidate);
        if folded == typed {
            return Some(candidate);
        }
        let distance = strsim::damerau_levenshtein(&typed, &folded);
        // A prefix typed in full (`rn` for `run` is an edit; `water` for `water_supply` a prefix).
        let distance = if folded.starts_with(&typed) && typed.chars().count() >= 3 {
            distance.min(1)
        } else {
            distance
        };
        if distance <= limit && best.is_none_or(|(d, _)| distance < d) {
            best = Some((distance, candidate));
        }
    }
    best.map(|(_, c)| c)
}

/// `; did you mean "x"?` for a message, or nothing.
pub fn hint<'a>(given: &str, candidates: impl IntoIterator<Item = &'a str>) -> String {
    did_you_mean(given, candidates).map_or_else(String::new, |c| format!("; did you mean \"{c}\"?"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typos_find_their_name_and_strangers_find_none() {
        let commands = ["run", "check", "explain", "template", "coefficients"];
        assert_eq!(did_you_mean("rn", commands), Some("run"));
        assert_eq!(did_you_mean("chek", commands), Some("check"));
        assert_eq!(did_you_mean("explian", commands), Some("explain"));
        assert_eq!(did_you_mean("xyz", commands), None);
        let counties = ["小店区", "迎泽区", "杏花岭区"];
        assert_eq!(did_you_mean("小店", counties), Some("小店区"));
        assert_eq!(
            did_you_mean("WATER_SUPLY", ["water_supply"]),
            Some("water_supply")
        );
        assert_eq!(did_you_mean("土地", ["森林资源"]), None);
    }
}
