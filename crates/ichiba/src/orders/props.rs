//! Property tests of the pure order engine (written by the engine's property-test task).
