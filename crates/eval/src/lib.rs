//! Public benchmarks for factually: dataset readers, training pairs for the stance model, and the
//! `factually eval` runner that scores the verify pipeline on them.

pub mod checkworthy;
pub mod claim_retrieval;
pub mod datasets;
pub mod presuppositions;
pub mod run;
pub mod training;
