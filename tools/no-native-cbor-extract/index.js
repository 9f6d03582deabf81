// Deliberately empty: cbor-x treats a falsy export as 'no native acceleration'.
module.exports = null;
