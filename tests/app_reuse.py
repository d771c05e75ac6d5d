"""What every app a test process makes would compute again identically, computed once.

The suite makes an app per test (about a thousand in the fast loop), and each paid twice for
work that depends only on the code: Jinja compiling every template it renders (about 50 ms a
test that renders three pages) and werkzeug compiling a URL builder for each of the ~600
routes (most of ``create_app``'s 70 ms). Both results are pure functions of their input, so
that a test sees the same pages and the same URLs; only the compiling is shared:

- templates: one in-memory ``jinja2.BytecodeCache`` for every app's environment. Jinja checks
  the source's checksum on every load, so an edited template is compiled again, and the key
  also holds what the environment compiles with (extensions, delimiters).
- URL builders: werkzeug makes each rule's builder from the rule's parts alone (the rule
  itself is passed in at call time), so one built for ``/org/<int:id>`` with the same
  defaults serves every app's copy of that rule.

The production server is not concerned: it makes its app once per process.
"""

from __future__ import annotations

import hashlib
from contextlib import contextmanager

import flask
import jinja2
from werkzeug.routing import rules

# werkzeug's own, kept for the test that compares each shared builder with it.
own_builder = rules.Rule._compile_builder


class SharedBytecode(jinja2.BytecodeCache):
    """Compiled templates kept in memory for every Jinja environment of the process."""

    def __init__(self) -> None:
        self._code: dict[str, bytes] = {}

    def get_bucket(self, environment, name, filename, source):
        # Beyond the name and file Jinja keys on: what changes the compiled code.
        compiled_with = repr((sorted(environment.extensions), environment.block_start_string,
                              environment.block_end_string, environment.variable_start_string,
                              environment.variable_end_string, environment.comment_start_string,
                              environment.comment_end_string, environment.line_statement_prefix,
                              environment.line_comment_prefix, environment.trim_blocks,
                              environment.lstrip_blocks, environment.newline_sequence,
                              environment.keep_trailing_newline, environment.optimized,
                              environment.is_async))
        key = hashlib.sha1(f"{self.get_cache_key(name, filename)}|{compiled_with}".encode()).hexdigest()
        bucket = jinja2.bccache.Bucket(environment, key, self.get_source_checksum(source))
        self.load_bytecode(bucket)
        return bucket

    def load_bytecode(self, bucket) -> None:
        if bucket.key in self._code:
            bucket.bytecode_from_string(self._code[bucket.key])  # ignored if the source changed

    def dump_bytecode(self, bucket) -> None:
        self._code[bucket.key] = bucket.bytecode_to_string()


def _builder_key(rule, append_unknown: bool):
    """Everything ``Rule._compile_builder`` reads: the rule's static and dynamic parts, and its
    defaults (those in the path become constants, converted as the builder would)."""
    defaults = rule.defaults or {}
    dynamic = {data for is_dynamic, data in rule._trace if is_dynamic}
    resolved = tuple((str(k), rule._converters[k].to_url(v) if k in dynamic else None)
                     for k, v in defaults.items())
    return rule.rule, append_unknown, tuple(rule._trace), resolved


@contextmanager
def shared_compilation():
    """Within the block, every new Flask app shares compiled templates and URL builders."""
    original_options = flask.Flask.jinja_options
    builders: dict = {}

    def compile_builder(self, append_unknown: bool = True):
        key = _builder_key(self, append_unknown)
        if key not in builders:
            builders[key] = own_builder(self, append_unknown)
        return builders[key]

    rules.Rule._compile_builder = compile_builder
    flask.Flask.jinja_options = {**original_options, "bytecode_cache": SharedBytecode()}
    try:
        yield
    finally:
        rules.Rule._compile_builder = own_builder
        flask.Flask.jinja_options = original_options
