//! Numbered pages (`page` from 0, `size` 1..=100, default 25) and sort orders
//! (ChatKitty overview, "Pagination"; chatkitty-api-notes §2.1).

use crate::error::DomainError;

/// Page size when the client gives none.
pub const DEFAULT_PAGE_SIZE: u32 = 25;
/// The largest page size; a larger one is refused, never silently clamped.
pub const MAX_PAGE_SIZE: u32 = 100;

/// Ascending or descending.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Smallest first (the default).
    Asc,
    /// Largest first.
    Desc,
}

/// One `sort=property,(asc|desc)` term over the fields `F` a list allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SortOrder<F> {
    /// The property.
    pub field: F,
    /// Its direction.
    pub direction: Direction,
}

/// A field a list can be sorted by, named as clients spell it.
pub trait SortField: Sized + Copy + PartialEq + 'static {
    /// Every field with its wire name.
    const FIELDS: &'static [(&'static str, Self)];
}

impl<F: SortField> SortOrder<F> {
    /// Parses `property` or `property,asc|desc` (Spring Data's syntax, which ChatKitty uses).
    pub fn parse(term: &str) -> Result<Self, DomainError> {
        let mut parts = term.split(',').map(str::trim);
        let name = parts.next().unwrap_or_default();
        let field = F::FIELDS.iter().find(|(wire, _)| *wire == name).map(|(_, f)| *f).ok_or_else(|| {
            let allowed: Vec<&str> = F::FIELDS.iter().map(|(wire, _)| *wire).collect();
            DomainError::InvalidArgument(format!(
                "unknown sort property '{name}'; sortable properties are: {}",
                allowed.join(", ")
            ))
        })?;
        let direction = match parts.next().map(str::to_ascii_lowercase).as_deref() {
            None | Some("asc") => Direction::Asc,
            Some("desc") => Direction::Desc,
            Some(other) => {
                return Err(DomainError::InvalidArgument(format!(
                    "unknown sort direction '{other}' for '{name}'; use asc or desc"
                )))
            }
        };
        if parts.next().is_some() {
            return Err(DomainError::InvalidArgument(format!("malformed sort term '{term}'; use property,asc|desc")));
        }
        Ok(Self { field, direction })
    }
}

/// Which page of a list to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageRequest<F> {
    /// 0-based page number.
    pub number: u32,
    /// Items per page, 1..=[`MAX_PAGE_SIZE`].
    pub size: u32,
    /// Sort terms, most significant first; the id is always the final tie-breaker.
    pub sort: Vec<SortOrder<F>>,
}

impl<F: SortField> PageRequest<F> {
    /// Validates raw query values.
    pub fn parse(page: Option<i64>, size: Option<i64>, sort: &[&str]) -> Result<Self, DomainError> {
        let number = match page {
            None => 0,
            Some(n) => u32::try_from(n)
                .map_err(|_| DomainError::InvalidArgument(format!("page must be 0 or more, got {n}")))?,
        };
        let size = match size {
            None => DEFAULT_PAGE_SIZE,
            Some(s) if (1..=i64::from(MAX_PAGE_SIZE)).contains(&s) => u32::try_from(s).unwrap_or(DEFAULT_PAGE_SIZE),
            Some(s) => {
                return Err(DomainError::InvalidArgument(format!(
                    "size must be between 1 and {MAX_PAGE_SIZE}, got {s}"
                )))
            }
        };
        let mut terms: Vec<SortOrder<F>> = Vec::with_capacity(sort.len().min(F::FIELDS.len()));
        for term in sort {
            let order = SortOrder::parse(term)?;
            // A property sorted again cannot change the order: the first term for it decides.
            // Dropping repeats also bounds the statements a list can produce (one per sort).
            if !terms.iter().any(|t| t.field == order.field) {
                terms.push(order);
            }
        }
        Ok(Self { number, size, sort: terms })
    }
}

impl<F> PageRequest<F> {
    /// Rows to skip.
    pub fn offset(&self) -> u64 {
        u64::from(self.number) * u64::from(self.size)
    }
}

/// One page of a numbered list.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    /// The items of this page.
    pub items: Vec<T>,
    /// 0-based page number.
    pub number: u32,
    /// The requested page size.
    pub size: u32,
    /// Items in the whole list.
    pub total_elements: u64,
}

impl<T> Page<T> {
    /// Pages in the whole list (0 for an empty list, as Spring Data reports).
    pub fn total_pages(&self) -> u64 {
        self.total_elements.div_ceil(u64::from(self.size.max(1)))
    }

    /// Maps the items, keeping the page numbers.
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            items: self.items.into_iter().map(f).collect(),
            number: self.number,
            size: self.size,
            total_elements: self.total_elements,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    enum Field {
        Name,
        Id,
    }
    impl SortField for Field {
        const FIELDS: &'static [(&'static str, Self)] = &[("name", Field::Name), ("id", Field::Id)];
    }

    #[test]
    fn defaults_are_page_0_size_25() {
        let req = PageRequest::<Field>::parse(None, None, &[]).unwrap();
        assert_eq!((req.number, req.size, req.offset()), (0, 25, 0));
    }

    #[test]
    fn size_limits_are_enforced_not_clamped() {
        assert_eq!(PageRequest::<Field>::parse(None, Some(100), &[]).unwrap().size, 100);
        assert_eq!(PageRequest::<Field>::parse(None, Some(1), &[]).unwrap().size, 1);
        let err = PageRequest::<Field>::parse(None, Some(101), &[]).unwrap_err();
        assert!(err.to_string().contains("between 1 and 100"), "{err}");
        assert!(PageRequest::<Field>::parse(None, Some(0), &[]).is_err());
        assert!(PageRequest::<Field>::parse(Some(-1), None, &[]).is_err());
    }

    #[test]
    fn sort_terms_parse() {
        let req = PageRequest::<Field>::parse(Some(2), Some(10), &["name,desc", "id"]).unwrap();
        assert_eq!(req.offset(), 20);
        assert_eq!(req.sort[0], SortOrder { field: Field::Name, direction: Direction::Desc });
        assert_eq!(req.sort[1], SortOrder { field: Field::Id, direction: Direction::Asc });
        let err = PageRequest::<Field>::parse(None, None, &["password"]).unwrap_err();
        assert!(err.to_string().contains("name, id"), "{err}");
        assert!(PageRequest::<Field>::parse(None, None, &["name,sideways"]).is_err());
    }

    #[test]
    fn a_property_sorted_again_keeps_its_first_term() {
        let req = PageRequest::<Field>::parse(None, None, &["name,desc", "id", "name,asc", "name,desc"]).unwrap();
        assert_eq!(
            req.sort,
            vec![
                SortOrder { field: Field::Name, direction: Direction::Desc },
                SortOrder { field: Field::Id, direction: Direction::Asc }
            ]
        );
        assert!(PageRequest::<Field>::parse(None, None, &["name", "bogus"]).is_err(), "every term is still checked");
    }

    #[test]
    fn total_pages_rounds_up() {
        let page = Page { items: vec![1], number: 0, size: 5, total_elements: 11 };
        assert_eq!(page.total_pages(), 3);
        let empty: Page<u8> = Page { items: vec![], number: 0, size: 5, total_elements: 0 };
        assert_eq!(empty.total_pages(), 0);
    }
}
