/** A record that did not end as it must: says which record, what was expected and what happened. */
export class FuzzFailure extends Error {
  override readonly name = "FuzzFailure";
}
