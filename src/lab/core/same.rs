//! [`Same`]: a shared value compared by identity, for cache keys and effect dependencies.
//!
//! Keying a cache by `Rc::as_ptr(..) as usize` is unsound: once the value is dropped, a new one
//! can be allocated at the same address and hit the old entry (the slider showed an older
//! model's accuracies that way). A `Same` holds its `Rc`, so while a key exists no other value
//! can take its address, and two keys are equal only for the very same allocation.

use std::rc::Rc;

/// An `Rc` whose equality is identity.
#[derive(Debug)]
pub struct Same<T: ?Sized>(pub Rc<T>);

impl<T: ?Sized> Clone for Same<T> {
    fn clone(&self) -> Self {
        Same(self.0.clone())
    }
}

impl<T: ?Sized> PartialEq for Same<T> {
    fn eq(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.0, &other.0)
    }
}

impl<T: ?Sized> From<&Rc<T>> for Same<T> {
    fn from(rc: &Rc<T>) -> Self {
        Same(rc.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_value_never_matches_an_old_key() {
        // The old way: a freed value's address is often handed to the next allocation of the
        // same size, and the stale key then matches a different value.
        let mut reused = false;
        for i in 0..100u64 {
            let old = Rc::new([i; 8]);
            let stale = Rc::as_ptr(&old) as usize;
            drop(old);
            let new = Rc::new([i + 1; 8]);
            reused |= Rc::as_ptr(&new) as usize == stale;
        }
        assert!(reused, "the allocator reused an address (the defect this type prevents)");
        // A `Same` key keeps its value alive: the next value cannot get its address.
        for i in 0..100u64 {
            let key = Same(Rc::new([i; 8]));
            let new = Rc::new([i; 8]);
            assert_ne!(key, Same(new.clone()), "equal contents, another value");
            assert_eq!(key, key.clone());
        }
    }
}
