//! Stage 3, value: validated [`Inputs`] and [`Coefficients`] → [`Accounts`].
//! Every indicator produces *lines* in one schema (county, component, input cell, coefficient,
//! quantity, price, value); `gep` rolls them up to counties, prefectures and the province.

pub mod carbon;
pub mod geep;
pub mod gep;
pub mod hydropower_recreation;
pub mod overrides;
pub mod products;
pub mod rated;
pub mod registry;
pub mod water_conservation;
pub mod water_supply;

use polars::prelude::*;

use crate::coefficients::Coefficients;
use crate::error::{Error, Issues, Result};
use crate::schema::col;
use crate::validate::Inputs;

pub use gep::{AccountRow, Accounts, Level};
pub use registry::{SERVICES, Service, service};

/// GEP category of an indicator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Category {
    /// 物质产品 (provisioning).
    Provisioning,
    /// 调节服务 (regulating).
    Regulating,
    /// 文化服务 (cultural).
    Cultural,
}

impl Category {
    /// All categories, in book order.
    pub const ALL: [Category; 3] = [
        Category::Provisioning,
        Category::Regulating,
        Category::Cultural,
    ];

    /// Machine key.
    pub fn key(self) -> &'static str {
        match self {
            Category::Provisioning => "provisioning",
            Category::Regulating => "regulating",
            Category::Cultural => "cultural",
        }
    }

    /// Chinese label.
    pub fn label_zh(self) -> &'static str {
        match self {
            Category::Provisioning => "物质产品",
            Category::Regulating => "调节服务",
            Category::Cultural => "文化服务",
        }
    }
}

/// Whether an indicator was valued in a run, and why not.
#[derive(Debug, Clone, PartialEq)]
pub struct Coverage {
    /// True when the run produced valuation lines for it (a value of 0 is then a true 0).
    pub valued: bool,
    /// Why it was not valued (English; empty when valued).
    pub reason_en: String,
    /// The same in Chinese.
    pub reason_zh: String,
}

/// Why indicator `key` produced no valuation line with this coefficient set and these inputs:
/// what is missing, in English and Chinese. A service that is not valued is shown as not
/// valued (未核算), never as 0.
pub fn not_valued_reason(key: &str, coef: &Coefficients) -> (String, String) {
    let Some(s) = registry::services(coef).into_iter().find(|s| s.key == key) else {
        return (format!("unknown service {key}"), format!("未知服务 {key}"));
    };
    if !s.components().is_empty() {
        let keys: Vec<&str> = s.components().iter().map(|c| c.rate.key).collect();
        let listed = coef
            .rates
            .iter()
            .any(|r| keys.contains(&r.indicator.as_str()));
        return if listed {
            (
                format!(
                    "every rate of {} in service_rates.csv is 0 (NOT FOUND) and the 实物量 sheet gives no quantity",
                    keys.join(", ")
                ),
                format!(
                    "service_rates.csv 中 {} 的单位面积服务量均为 0（未找到来源），实物量表也未给出",
                    keys.join("、")
                ),
            )
        } else {
            (
                format!(
                    "the coefficient set gives no rate for {} (service_rates.csv) and the 实物量 sheet gives no quantity",
                    keys.join(", ")
                ),
                format!(
                    "系数集未给出 {} 的单位面积服务量（service_rates.csv），实物量表也未给出",
                    keys.join("、")
                ),
            )
        };
    }
    match s.missing {
        Some((en, zh)) => (en.into(), zh.into()),
        None => (
            "no valuation line: the workbook or the coefficient set lacks what it needs".into(),
            "无核算明细：输入表或系数集缺少所需数据".into(),
        ),
    }
}

/// Columns of a valuation line, in order. Every indicator module returns exactly these.
///
/// `quantity_formula` is the quantity as an Excel formula over the line's own cells, with the
/// placeholders `{input}` and `{coefficient}` (the book substitutes the cell addresses); empty
/// when the quantity is not a simple product of them (it is then written as a number).
pub const LINE_COLUMNS: &[&str] = &[
    col::CODE,
    "indicator",
    "component",
    "source_ref",
    "input_amount",
    "input_unit",
    "coefficient_ref",
    "coefficient",
    "coefficient_unit",
    "method",
    "quantity_formula",
    "quantity",
    "quantity_unit",
    "price_key",
    "price_cny_per_unit",
    "value_cny",
];

/// Text of a valuation line shared between lines (the method, units, a county code are the same on
/// thousands of lines): cloned by reference count, not copied; one pointer wide (length and count
/// live with the text), which keeps a [`Line`] at 160 bytes instead of 240.
pub type Text = arcstr::ArcStr;

/// One copy of each text of a valuation (county codes, units, methods, cells): a line takes a
/// reference-counted [`Text`] from here instead of allocating its own.
#[derive(Debug, Default)]
pub struct Texts(PlHashSet<Text>);

impl Texts {
    /// The shared copy of `text`.
    pub fn get(&mut self, text: &str) -> Text {
        if let Some(t) = self.0.get(text) {
            return t.clone();
        }
        let t: Text = text.into();
        self.0.insert(t.clone());
        t
    }
}

/// One valuation line: how one input cell became a quantity and a value (the columns of
/// [`LINE_COLUMNS`], typed). Families build them row by row or as polars frames; the accounts
/// keep them as a `Vec<Line>`.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Line {
    /// County code.
    pub county_code: Text,
    /// Service key (a registry key).
    pub indicator: &'static str,
    /// Component: land class, sector, pollutant … as written.
    pub component: Text,
    /// The input cell (`file [sheet!A1]`).
    pub source_ref: Text,
    /// Input amount in `input_unit`.
    pub input_amount: f64,
    /// Unit of the input amount.
    pub input_unit: Text,
    /// The coefficient's file, key, value and grade; empty without one.
    pub coefficient_ref: Text,
    /// The coefficient in the engine's unit.
    pub coefficient: Option<f64>,
    /// Unit of the coefficient.
    pub coefficient_unit: Text,
    /// Formula in words.
    pub method: Text,
    /// The quantity as an Excel formula over `{input}` and `{coefficient}`; empty when written
    /// as a number.
    pub quantity_formula: Text,
    /// Physical quantity (none for a value-only service).
    pub quantity: Option<f64>,
    /// Unit of the quantity.
    pub quantity_unit: Text,
    /// Key of the price in prices.toml; empty without one.
    pub price_key: Text,
    /// Price, 元 per quantity unit (a value per hectare for per-hectare services).
    pub price_cny_per_unit: Option<f64>,
    /// Value, 元.
    pub value_cny: f64,
}

impl Line {
    /// Lines as a frame in [`LINE_COLUMNS`] order.
    ///
    /// # Errors
    /// Polars failures only.
    pub fn frame(lines: &[Line]) -> Result<DataFrame> {
        let s = |f: &dyn Fn(&Line) -> &str| lines.iter().map(f).collect::<Vec<&str>>();
        let n =
            |f: &dyn Fn(&Line) -> Option<f64>| lines.iter().map(f).collect::<Vec<Option<f64>>>();
        let frame = DataFrame::new_infer_height(vec![
            Column::new(col::CODE.into(), s(&|x| &x.county_code)),
            Column::new("indicator".into(), s(&|x| x.indicator)),
            Column::new("component".into(), s(&|x| &x.component)),
            Column::new("source_ref".into(), s(&|x| &x.source_ref)),
            Column::new("input_amount".into(), n(&|x| Some(x.input_amount))),
            Column::new("input_unit".into(), s(&|x| &x.input_unit)),
            Column::new("coefficient_ref".into(), s(&|x| &x.coefficient_ref)),
            Column::new("coefficient".into(), n(&|x| x.coefficient)),
            Column::new("coefficient_unit".into(), s(&|x| &x.coefficient_unit)),
            Column::new("method".into(), s(&|x| &x.method)),
            Column::new("quantity_formula".into(), s(&|x| &x.quantity_formula)),
            Column::new("quantity".into(), n(&|x| x.quantity)),
            Column::new("quantity_unit".into(), s(&|x| &x.quantity_unit)),
            Column::new("price_key".into(), s(&|x| &x.price_key)),
            Column::new("price_cny_per_unit".into(), n(&|x| x.price_cny_per_unit)),
            Column::new("value_cny".into(), n(&|x| Some(x.value_cny))),
        ])?;
        Ok(frame)
    }
}

/// The prices of the set by key, in the engine's unit ([`price_in_engine_unit`]).
fn prices_by_key(coef: &Coefficients) -> Result<PlHashMap<&str, f64>> {
    let mut out = PlHashMap::new();
    for (key, price) in &coef.prices {
        out.insert(key.as_str(), price_in_engine_unit(coef, key, price)?);
    }
    Ok(out)
}

/// A price in the unit the engine's quantities are in: 元 per unit as written, except carbon,
/// which the set may give per t C or per t CO₂ and the lines quantify in t CO₂.
fn price_in_engine_unit(
    coef: &Coefficients,
    key: &str,
    price: &crate::coefficients::Price,
) -> Result<f64> {
    if key == "carbon" {
        coef.carbon_price_per_t_co2().ok_or_else(|| {
            Error::Internal(format!("carbon price unit {} not convertible", price.unit))
        })
    } else {
        Ok(price.value)
    }
}

/// The value of price `key` of the set in the engine's unit (carbon per t CO₂, whichever unit the
/// set writes it in).
///
/// # Errors
/// [`Error::Invalid`] naming prices.toml when the set has no such price.
pub(crate) fn required_price(coef: &Coefficients, key: &str) -> Result<f64> {
    let price = coef
        .price(key)
        .ok_or_else(|| Error::invalid("prices.toml", format!("missing price [prices.{key}]")))?;
    price_in_engine_unit(coef, key, price)
}

/// Sorts lines by county, service and component (as strings); lines that tie keep their order.
/// The keys are ranked once (a few thousand distinct texts) and the lines sorted by one packed
/// integer of the ranks and their position, borrowed from the lines (no copies of their texts: at
/// national scale every fresh page costs). Lines come in runs of one county and one service, so a
/// text equal to the line above takes its rank without a hash lookup.
fn sort_lines(lines: &mut [Line]) {
    let order = sorted_order(lines);
    apply_order(lines, &order);
}

/// The positions of `lines` in sorted order (see [`sort_lines`]): one pass over the lines gives
/// each text an id in order of first sight, the few distinct texts are sorted, and the lines'
/// ids become ranks without touching the lines again.
fn sorted_order(lines: &[Line]) -> Vec<u32> {
    use rayon::slice::ParallelSliceMut;
    let mut columns: [TextIds<'_>; 3] = Default::default();
    let ids: Vec<[u32; 3]> = lines
        .iter()
        .map(|l| {
            [
                columns[0].id(&l.county_code),
                columns[1].id(l.indicator),
                columns[2].id(&l.component),
            ]
        })
        .collect();
    let [county, service, component] = columns.map(TextIds::ranks);
    let rank = |id: [u32; 3]| {
        (
            county[id[0] as usize],
            service[id[1] as usize],
            component[id[2] as usize],
        )
    };
    // county | service | component | position, in 24 + 8 + 24 + 32 bits: room for 16 million
    // counties and components, 256 services and 4 billion lines.
    if county.len() < 1 << 24 && service.len() < 1 << 8 && component.len() < 1 << 24 {
        let mut keys: Vec<u128> = ids
            .iter()
            .zip(0u128..)
            .map(|(id, position)| {
                let (c, s, k) = rank(*id);
                (u128::from(c) << 88) | (u128::from(s) << 80) | (u128::from(k) << 56) | position
            })
            .collect();
        drop(ids);
        keys.par_sort_unstable();
        keys.iter().map(|k| *k as u32).collect()
    } else {
        let mut order: Vec<u32> = (0..lines.len() as u32).collect();
        order.sort_by_key(|&i| rank(ids[i as usize]));
        order
    }
}

/// Ids of a column's texts in order of first sight. Lines come in runs (one county, one
/// service), so a text equal to the line above takes its id without a hash lookup.
#[derive(Default)]
struct TextIds<'a> {
    ids: PlHashMap<&'a str, u32>,
    texts: Vec<&'a str>,
    last: Option<(&'a str, u32)>,
}

impl<'a> TextIds<'a> {
    fn id(&mut self, text: &'a str) -> u32 {
        if let Some((t, id)) = self.last
            && same_text(t, text)
        {
            return id;
        }
        let next = self.texts.len() as u32;
        let id = *self.ids.entry(text).or_insert(next);
        if id == next {
            self.texts.push(text);
        }
        self.last = Some((text, id));
        id
    }

    /// The rank of each id's text in sorted order.
    fn ranks(self) -> Vec<u32> {
        let mut by_text: Vec<u32> = (0..self.texts.len() as u32).collect();
        by_text.sort_unstable_by_key(|&id| self.texts[id as usize]);
        let mut rank = vec![0; by_text.len()];
        for (r, id) in (0u32..).zip(by_text) {
            rank[id as usize] = r;
        }
        rank
    }
}

/// Whether two texts are equal, by address first (texts shared between lines are one copy).
pub(crate) fn same_text(a: &str, b: &str) -> bool {
    (std::ptr::eq(a.as_ptr(), b.as_ptr()) && a.len() == b.len()) || a == b
}

/// Puts `items` in `order` (a permutation of its indices) in place, one swap per move.
fn apply_order<T>(items: &mut [T], order: &[u32]) {
    let n = items.len() as u32;
    let mut position: Vec<u32> = (0..n).collect(); // where each original item is now
    let mut item_at: Vec<u32> = (0..n).collect(); // which original item is at a slot
    for (slot, &wanted) in order.iter().enumerate() {
        let from = position[wanted as usize] as usize;
        if from != slot {
            items.swap(slot, from);
            let displaced = item_at[slot];
            item_at.swap(slot, from);
            position[displaced as usize] = from as u32;
            position[wanted as usize] = slot as u32;
        }
    }
}

/// One valuation family's lines, their sums for the roll-up and the family's warnings.
type FamilyLines<'c> = Result<(Vec<Line>, gep::LineSums<'c>, Issues)>;

/// Values every indicator and rolls the lines up.
///
/// # Errors
/// [`Error::Invalid`] when a key finds no coefficient (named with the cell it came from);
/// [`Error::Internal`] when an accounting identity fails.
pub fn compute(inputs: &Inputs, coef: &Coefficients) -> Result<Accounts> {
    let overrides = overrides::Overrides::resolve(inputs, coef)?;
    // The families are independent: valued in parallel, each with its own warnings and texts,
    // gathered in registry order (the first failing family's error, its warnings in order).
    let families = registry::families_of(coef);
    // The land rows with their valuation classes, shared by the families that rate land.
    let land = LandCover::new(inputs, coef, &mut Texts::default())?;
    // Families are taken in turn by as many threads as there are cores (plain threads: a
    // family that waits on polars' own pool from a rayon worker would take another family's
    // work and hold its own result back until that is done; more threads than cores would hold
    // more families' memory at once).
    let keys = gep::RollUpKeys::new(coef);
    let value_family = |family: &registry::Family| {
        let mut warnings = Issues::new();
        let mut context = registry::Context {
            inputs,
            coef,
            overrides: &overrides,
            warnings: &mut warnings,
            texts: Texts::default(),
            land: &land,
        };
        let start = std::time::Instant::now();
        let lines = (family.lines)(&mut context)?;
        // Summed for the roll-up here, on the family's thread, while other families run.
        let sums = gep::LineSums::of(&lines, &keys)?;
        crate::timed_part_end(
            &format!("  value: {} ({} lines)", family.name, lines.len()),
            start,
        );
        Ok((lines, sums, warnings))
    };
    let next_family = std::sync::atomic::AtomicUsize::new(0);
    let take_families = || {
        let mut valued = Vec::new();
        loop {
            let i = next_family.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let Some(family) = families.get(i) else {
                return valued;
            };
            valued.push((i, value_family(family)));
        }
    };
    let threads = std::thread::available_parallelism()
        .map_or(2, usize::from)
        .clamp(1, families.len().max(1));
    let mut valued: Vec<(usize, FamilyLines)> = std::thread::scope(|scope| {
        let running: Vec<_> = (0..threads).map(|_| scope.spawn(take_families)).collect();
        running
            .into_iter()
            .flat_map(|thread| {
                thread
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            })
            .collect()
    });
    valued.sort_by_key(|(i, _)| *i);
    let parts: Vec<FamilyLines> = valued.into_iter().map(|(_, part)| part).collect();
    let mut warnings = Issues::new();
    let mut done = Vec::with_capacity(parts.len());
    let mut family_sums = Vec::with_capacity(parts.len());
    for part in parts {
        let (part_lines, part_sums, part_warnings) = part?;
        done.push(part_lines);
        family_sums.push(part_sums);
        warnings.extend(part_warnings);
    }
    // The families' lines are put together while their sums are merged (in registry order).
    let (lines, sums) = rayon::join(
        || concatenate(done),
        || {
            let mut sums = gep::LineSums::default();
            for part in family_sums {
                sums.merge(part);
            }
            sums
        },
    );
    gep::roll_up(inputs, coef, &keys, lines, sums, warnings)
}

/// The families' lines in one vector. The largest family's lines take the others in: its pages
/// are not copied again (fresh memory is costly to touch), only grown in place.
fn concatenate(mut parts: Vec<Vec<Line>>) -> Vec<Line> {
    let total: usize = parts.iter().map(Vec::len).sum();
    let largest = (0..parts.len())
        .max_by_key(|&i| parts[i].len())
        .unwrap_or_default();
    let mut lines = if parts.is_empty() {
        Vec::new()
    } else {
        parts.remove(largest)
    };
    lines.reserve(total - lines.len());
    for part in parts {
        lines.extend(part);
    }
    lines
}

/// The accounts' rows (counties, prefectures, province) without a valuation line, for an
/// equivalent-factor study that computes no GEP: every indicator is not valued.
///
/// # Errors
/// As [`gep::roll_up`].
pub fn skeleton(inputs: &Inputs, coef: &Coefficients) -> Result<Accounts> {
    let keys = gep::RollUpKeys::new(coef);
    gep::roll_up(
        inputs,
        coef,
        &keys,
        Vec::new(),
        gep::LineSums::default(),
        Issues::new(),
    )
}

/// One row of a long input frame (economy, environment, climate, reservoirs).
pub(crate) struct LongRow {
    /// County code.
    pub county: String,
    /// Column key (`gdp_cny`, `so2_t`, `precipitation_mm` …).
    pub item: String,
    /// Amount in the column's base unit.
    pub amount: f64,
    /// The cell it was read from.
    pub source_ref: String,
}

/// A number that validation guarantees (an amount read, an area, a joined rate). A null here
/// would be summed as 0 and hide a missing input, so it is an internal error naming the cell.
///
/// # Errors
/// [`Error::Internal`] when the value is missing.
pub(crate) fn present(value: Option<f64>, what: &str, at: Option<&str>) -> Result<f64> {
    value.ok_or_else(|| {
        Error::Internal(format!(
            "{what} missing at {} after validation",
            at.unwrap_or("an unknown cell")
        ))
    })
}

/// The rows of a long frame (county_code, item, amount, source_ref).
pub(crate) fn long_rows(df: &DataFrame) -> Result<Vec<LongRow>> {
    long_rows_where(df, |_| true)
}

/// The rows of a long frame for one `item` (the 经济社会 frame holds every item of every county:
/// rows of other items are skipped before anything is copied).
pub(crate) fn long_rows_of(df: &DataFrame, item: &str) -> Result<Vec<LongRow>> {
    long_rows_where(df, |i| i == item)
}

fn long_rows_where(df: &DataFrame, keep: impl Fn(&str) -> bool) -> Result<Vec<LongRow>> {
    let mut out = Vec::new();
    for row in long_row_refs(df)? {
        if !keep(row.item) {
            continue;
        }
        out.push(LongRow {
            county: row.county.to_string(),
            item: row.item.to_string(),
            amount: present(row.amount, "an amount", Some(row.source_ref))?,
            source_ref: row.source_ref.to_string(),
        });
    }
    Ok(out)
}

/// One row of a long frame, borrowed from its columns.
pub(crate) struct LongRowRef<'a> {
    pub county: &'a str,
    pub item: &'a str,
    pub amount: Option<f64>,
    pub source_ref: &'a str,
}

/// The rows of a long frame (county_code, item, amount, source_ref) in order, nothing copied.
///
/// # Errors
/// Polars failures (a column missing or of another type).
pub(crate) fn long_row_refs(df: &DataFrame) -> Result<impl Iterator<Item = LongRowRef<'_>>> {
    let codes = df.column(crate::schema::col::CODE)?.str()?;
    let items = df.column("item")?.str()?;
    let amounts = df.column("amount")?.f64()?;
    let refs = df.column("source_ref")?.str()?;
    Ok(codes
        .iter()
        .zip(items.iter())
        .zip(amounts.iter())
        .zip(refs.iter())
        .map(|(((county, item), amount), source_ref)| LongRowRef {
            county: county.unwrap_or_default(),
            item: item.unwrap_or_default(),
            amount,
            source_ref: source_ref.unwrap_or_default(),
        }))
}

/// One land-cover row joined to its per-hectare rate.
pub(crate) struct ClassRate<'l> {
    /// County code.
    pub county: &'l Text,
    /// Land class as written.
    pub class: &'l Text,
    /// Area, ha.
    pub area_ha: f64,
    /// The land-cover cell.
    pub source_ref: &'l Text,
    /// Rate in the engine's unit.
    pub rate: f64,
    /// The rate's file, key, value and grade.
    pub rate_ref: Text,
}

/// One land-cover row of the run with the valuation class of its land class.
struct LandRow {
    county: Text,
    class: Text,
    valuation_class: Option<Text>,
    area_ha: Option<f64>,
    source_ref: Text,
}

/// The land-cover rows of a run, each with its valuation class (land_classes.csv), read once and
/// matched to the rates of one indicator at a time by hash lookups ([`LandCover::class_rates`]).
pub(crate) struct LandCover {
    rows: Vec<LandRow>,
}

impl LandCover {
    /// The land rows of `inputs` with their valuation classes.
    ///
    /// # Errors
    /// Polars failures only (a column missing from the validated frame).
    pub fn new(inputs: &Inputs, coef: &Coefficients, texts: &mut Texts) -> Result<Self> {
        let mut crosswalk: PlHashMap<&str, Text> = PlHashMap::default();
        for c in &coef.land_classes {
            if !crosswalk.contains_key(c.land_class.as_str()) {
                crosswalk.insert(c.land_class.as_str(), texts.get(&c.valuation_class));
            }
        }
        let df = &inputs.land;
        let codes = df.column(col::CODE)?.str()?;
        let classes = df.column(col::LAND_CLASS)?.str()?;
        let areas = df.column(col::AREA_HA)?.f64()?;
        let refs = df.column("source_ref")?.str()?;
        let rows = (0..df.height())
            .map(|i| {
                let class = classes.get(i).unwrap_or_default();
                LandRow {
                    county: texts.get(codes.get(i).unwrap_or_default()),
                    class: texts.get(class),
                    valuation_class: crosswalk.get(class).cloned(),
                    area_ha: areas.get(i),
                    source_ref: Text::from(refs.get(i).unwrap_or_default()),
                }
            })
            .collect();
        Ok(LandCover { rows })
    }

    /// Each land row with its rate of `indicator` (rates of service_rates.csv by valuation
    /// class), in land-cover order, borrowing the row's texts (a set has a dozen rated
    /// components, each rated over every land row).
    ///
    /// # Errors
    /// [`Error::Invalid`] naming every cell whose land class has no valuation class, or whose
    /// valuation class has no `indicator` rate (all in one pass).
    pub fn class_rates(
        &self,
        coef: &Coefficients,
        indicator: &str,
        texts: &mut Texts,
    ) -> Result<Vec<ClassRate<'_>>> {
        let mut rates: PlHashMap<&str, (f64, Text)> = PlHashMap::default();
        for r in coef.rates.iter().filter(|r| r.indicator == indicator) {
            if !rates.contains_key(r.valuation_class.as_str()) {
                let rate_ref = format!(
                    "service_rates.csv: {}/{} = {} {} [{}]",
                    r.valuation_class, r.indicator, r.rate, r.unit, r.status
                );
                rates.insert(
                    r.valuation_class.as_str(),
                    (r.rate_base, texts.get(&rate_ref)),
                );
            }
        }
        let mut issues = Issues::new();
        let mut out = Vec::with_capacity(self.rows.len());
        for row in &self.rows {
            let rate = row.valuation_class.as_deref().and_then(|v| rates.get(v));
            let Some((rate, rate_ref)) = rate else {
                let message = match &row.valuation_class {
                    None => format!(
                        "land class \"{}\" has no valuation class in land_classes.csv",
                        row.class
                    ),
                    Some(v) => {
                        format!(
                            "no {indicator} rate for valuation class \"{v}\" in service_rates.csv"
                        )
                    }
                };
                issues.error(&*row.source_ref, message);
                continue;
            };
            out.push((row, *rate, rate_ref.clone()));
        }
        // Missing coefficients first (the user's to fix); a missing area after validation is ours.
        issues.into_result()?;
        out.into_iter()
            .map(|(row, rate, rate_ref)| {
                Ok(ClassRate {
                    county: &row.county,
                    class: &row.class,
                    area_ha: present(row.area_ha, "an area", Some(&row.source_ref))?,
                    source_ref: &row.source_ref,
                    rate,
                    rate_ref,
                })
            })
            .collect()
    }
}

#[cfg(test)]
pub(crate) mod testing {
    //! A hand-computable 3-county case shared by the indicator tests.
    use super::*;
    use crate::validate::{InputFile, Inputs};

    /// The national CPI chain from `year` to 2021, by hand from the published yearly indices
    /// (NBS, previous year = 100): the Shanxi set brings its 2010 and 2011 prices to its 2021
    /// base year with it.
    pub fn cpi_to_2021(year: i32) -> f64 {
        [
            (2011, 105.4),
            (2012, 102.6),
            (2013, 102.6),
            (2014, 102.0),
            (2015, 101.4),
            (2016, 102.0),
            (2017, 101.6),
            (2018, 102.1),
            (2019, 102.9),
            (2020, 102.5),
            (2021, 100.9),
        ]
        .iter()
        .filter(|(y, _)| *y > year)
        .map(|(_, i)| i / 100.0)
        .product()
    }

    /// The 3-county case with a 实物量 sheet: (county, indicator, quantity, unit) rows, one
    /// source for all, cells D3, D4 …
    pub fn with_physical_rows(rows: &[(&str, &str, f64, &str)], source: &str) -> Inputs {
        let mut i = inputs();
        i.physical = Some(
            df!(
                col::CODE => rows.iter().map(|r| r.0).collect::<Vec<_>>(),
                "indicator" => rows.iter().map(|r| r.1).collect::<Vec<_>>(),
                "quantity" => rows.iter().map(|r| r.2).collect::<Vec<_>>(),
                "unit" => rows.iter().map(|r| r.3).collect::<Vec<_>>(),
                "source" => rows.iter().map(|_| source).collect::<Vec<_>>(),
                "source_ref" => (0..rows.len()).map(|k| format!("t [实物量!D{}]", k + 3)).collect::<Vec<_>>(),
            )
            .unwrap(),
        );
        i
    }

    /// Three Taiyuan counties with round numbers.
    pub fn inputs() -> Inputs {
        let land = df!(
            col::CODE => ["140105", "140105", "140106", "140107"],
            "land_class" => ["乔木林地", "天然牧草地", "旱地", "灌木林地"],
            "area_ha" => [100.0, 50.0, 200.0, 10.0],
            "source_ref" => ["t [土地利用!C5]", "t [土地利用!D5]", "t [土地利用!E6]", "t [土地利用!F7]"],
        )
        .unwrap();
        let forest = df!(
            col::CODE => ["140105", "140106"],
            "forest_type" => ["油松", "其他松类"],
            "area_ha" => [100.0, 20.0],
            "stock_m3" => [5000.0, 600.0],
            "growth_m3" => [Some(150.0), Some(30.0)],
            "source_ref" => ["t [森林资源!A5:F5]", "t [森林资源!A6:F6]"],
        )
        .unwrap();
        let previous = df!(
            col::CODE => ["140105"],
            "forest_type" => ["油松"],
            "area_ha" => [90.0],
            "stock_m3" => [4400.0],
            "growth_m3" => [None::<f64>],
            "source_ref" => ["t [森林资源(上年)!A5:F5]"],
        )
        .unwrap();
        let water = df!(
            col::CODE => ["140105", "140105", "140106"],
            "sector" => ["agriculture", "household", "industry"],
            "volume_m3" => [1_000_000.0, 200_000.0, 50_000.0],
            "source_ref" => ["t [供水!F5]", "t [供水!H5]", "t [供水!G6]"],
        )
        .unwrap();
        let economy = df!(
            col::CODE => ["140105", "140105", "140106", "140107"],
            "item" => ["agriculture_output_cny", "fishery_output_cny", "forestry_output_cny", "gdp_cny"],
            "amount" => [3.0e8, 1.0e6, 2.0e6, 9.0e9],
            "source_ref" => ["t [经济社会!E5]", "t [经济社会!H5]", "t [经济社会!F6]", "t [经济社会!D7]"],
        )
        .unwrap();
        Inputs {
            esv_only: false,
            year: 2021,
            counties: vec!["140105".into(), "140106".into(), "140107".into()],
            land,
            forest,
            forest_previous: Some((2020, previous)),
            water_use: water,
            economy,
            environment: Some(
                df!(
                    col::CODE => ["140105", "140105", "140105"],
                    "item" => ["so2_t", "cod_t", "resource_depletion_cny"],
                    "amount" => [100.0, 50.0, 2.0e6],
                    "source_ref" => ["t [环境!C5]", "t [环境!F5]", "t [环境!I5]"],
                )
                .unwrap(),
            ),
            reservoirs: df!(
                col::CODE => Vec::<String>::new(),
                "item" => Vec::<String>::new(),
                "amount" => Vec::<f64>::new(),
                "source_ref" => Vec::<String>::new(),
            )
            .unwrap(),
            climate: None,
            physical: None,
            transitions: None,
            files: vec![InputFile {
                name: "t".into(),
                path: "t".into(),
                sha256: String::new(),
                bytes: 0,
            }],
            scope: crate::validate::Scope::default(),
            warnings: Issues::new(),
        }
    }

    /// Sum of `value_cny` (or `quantity`) of the lines of `indicator` for `county`.
    pub fn total(lines: &DataFrame, county: &str, indicator: &str, column: &str) -> f64 {
        let codes = lines.column(col::CODE).unwrap().str().unwrap().clone();
        let inds = lines.column("indicator").unwrap().str().unwrap().clone();
        let values = lines.column(column).unwrap().f64().unwrap().clone();
        codes
            .iter()
            .zip(inds.iter())
            .zip(values.iter())
            .filter(|((c, i), _)| *c == Some(county) && *i == Some(indicator))
            .map(|(_, v)| v.unwrap_or(0.0))
            .sum()
    }
}

#[cfg(test)]
impl Line {
    /// A line with a county, service, component and value, every other field empty (tests of
    /// ordering and summing).
    pub(crate) fn for_test(
        county: Text,
        indicator: &'static str,
        component: &str,
        value_cny: f64,
    ) -> Line {
        Line {
            county_code: county,
            indicator,
            component: component.into(),
            source_ref: "".into(),
            input_amount: 0.0,
            input_unit: "".into(),
            coefficient_ref: "".into(),
            coefficient: None,
            coefficient_unit: "".into(),
            method: "".into(),
            quantity_formula: "".into(),
            quantity: None,
            quantity_unit: "".into(),
            price_key: "".into(),
            price_cny_per_unit: None,
            value_cny,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_rows_of_an_item_copy_only_that_item_in_frame_order() {
        let df = df!(
            col::CODE => ["140105", "140105", "140106"],
            "item" => ["hydropower_kwh", "gdp_cny", "hydropower_kwh"],
            "amount" => [1.0, 2.0, 3.0],
            "source_ref" => ["a [经济社会!C2]", "a [经济社会!D2]", "a [经济社会!C3]"],
        )
        .unwrap();
        let rows = long_rows_of(&df, "hydropower_kwh").unwrap();
        let got: Vec<(&str, f64, &str)> = rows
            .iter()
            .map(|r| (r.county.as_str(), r.amount, r.source_ref.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                ("140105", 1.0, "a [经济社会!C2]"),
                ("140106", 3.0, "a [经济社会!C3]")
            ]
        );
        assert_eq!(long_rows(&df).unwrap().len(), 3);
    }

    #[test]
    fn a_line_stays_small_enough_for_national_runs() {
        // Millions of lines are built, merged, sorted and summed at 30,000 counties: every byte of
        // a line is moved several times. Texts are one pointer each (a shared `ArcStr`), not a
        // pointer and a length (240 bytes a line with `Arc<str>`).
        assert_eq!(std::mem::size_of::<Text>(), 8);
        assert!(
            std::mem::size_of::<Line>() <= 160,
            "{}",
            std::mem::size_of::<Line>()
        );
    }

    #[test]
    fn lines_are_sorted_by_county_service_and_component_text_and_ties_keep_their_order() {
        // First-seen order differs from text order in every column; the county "140105" is one
        // shared copy on two lines and a separate equal copy on a third (as from two families).
        let shared: Text = "140105".into();
        let line = Line::for_test;
        let mut lines = vec![
            line(shared.clone(), "water_supply", "工业", 1.0),
            line(shared.clone(), "carbon_sequestration", "耕地", 2.0),
            line("140101".into(), "water_supply", "农业", 3.0),
            line("140105".into(), "carbon_sequestration", "耕地", 4.0),
            line("140101".into(), "water_supply", "工业", 5.0),
            line("140105".into(), "carbon_sequestration", "林地", 6.0),
        ];
        sort_lines(&mut lines);
        let values: Vec<f64> = lines.iter().map(|l| l.value_cny).collect();
        // 140101 first; within 140105 carbon before water; components compare as UTF-8 text
        // (农 < 工, 林 < 耕); the two 耕地 lines tie and keep their order (2 then 4).
        assert_eq!(values, [3.0, 5.0, 6.0, 2.0, 4.0, 1.0]);
    }

    #[test]
    fn apply_order_puts_items_in_the_given_order() {
        for order in [
            vec![2, 0, 1],
            vec![0, 1, 2],
            vec![1, 2, 0],
            vec![2, 1, 0],
            vec![3, 0, 2, 1],
            vec![4, 3, 0, 1, 2],
        ] {
            let mut items: Vec<u32> = (0..order.len() as u32).collect();
            apply_order(&mut items, &order);
            assert_eq!(items, order);
        }
    }

    /// GitHub-style anchor of a markdown heading.
    fn anchor(heading: &str) -> String {
        heading
            .trim_start_matches('#')
            .trim()
            .to_lowercase()
            .chars()
            .filter_map(|c| match c {
                ' ' => Some('-'),
                c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn every_indicator_links_to_a_heading_of_the_methodology() {
        let doc = include_str!("../../docs/methodology.md");
        let anchors: Vec<String> = doc
            .lines()
            .filter(|l| l.starts_with('#'))
            .map(anchor)
            .collect();
        for ind in SERVICES {
            let (file, a) = ind.doc.split_once('#').unwrap();
            assert_eq!(file, "docs/methodology.md", "{}", ind.key);
            assert!(
                anchors.iter().any(|x| x == a),
                "{}: #{a} not a heading",
                ind.key
            );
        }
    }
}
