//! Engine tests: the seed-site check, encoding, and properties of the decision rule.

use super::*;
