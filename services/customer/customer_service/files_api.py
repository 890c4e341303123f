"""HTTP routes of customer files: ``POST /customers/import`` and ``GET /customers/export``
(CONTRACT §4.6)."""

from __future__ import annotations

from flask_smorest import Blueprint, abort
from flask_smorest.fields import Upload
from marshmallow import Schema, fields

from revisit_common import tabular, use_case
from revisit_common.identity import current
from revisit_common.runtime import runtime

from . import import_rows, importing, transfer
from .schemas import CustomerListArgs

blp = Blueprint(
    "customer_files",
    __name__,
    url_prefix="/api/v1/customers",
    description="Customers in and out as CSV or XLSX files",
)


class CustomerImportFileSchema(Schema):
    file = Upload(
        required=True,
        metadata={
            "description": "CSV (UTF-8, with or without BOM) or XLSX, header row first; at"
            " most the request body limit (REVISIT_MAX_BODY_BYTES, 1 MiB by default)",
            "maxLength": 1024 * 1024,
        },
    )


class CustomerImportArgs(Schema):
    dry_run = fields.Boolean(
        load_default=False, metadata={"description": "check and count, write nothing"}
    )


class CustomerImportErrorSchema(Schema):
    row = fields.Integer(metadata={"description": "the file's row; the header is row 1"})
    field = fields.String()
    message = fields.String()


class CustomerImportResultSchema(Schema):
    created = fields.Integer()
    updated = fields.Integer()
    errors = fields.List(fields.Nested(CustomerImportErrorSchema))


CustomerExportArgs = tabular.export_args(CustomerListArgs, "CustomerExportArgs")


@blp.route("/import", methods=["POST"])
@blp.arguments(CustomerImportArgs, location="query")
@blp.arguments(CustomerImportFileSchema, location="files")
@blp.response(200, CustomerImportResultSchema)
@blp.alt_response(415, response="UNSUPPORTED_MEDIA_TYPE")
def customers_import(args, files):
    """Register or update many customers from a file: a row whose ``external_id`` names a
    customer updates it, any other registers one. Every row must pass ``POST /customers``'s
    checks; a file with any invalid row writes nothing (the errors are listed, each with its
    row, field and message). Column names: the fields, or Chinese aliases (名称/客户名称,
    类型, 区域, 年采购额, 合作开始日期, 负责人, 外部编号, ...)."""
    try:
        table = import_rows.read_table(files["file"].read())
    except import_rows.UnsupportedFile as exc:
        abort(415, message=str(exc))
    return use_case.write(importing.import_customers, table, args["dry_run"])


@tabular.export_route(blp, "/export", CustomerExportArgs)
def customers_export(args):
    """The customers ``GET /customers`` would list with these filters, every one, as a CSV
    (UTF-8 with BOM) or XLSX file."""
    tenant, rt = current().tenant_id, runtime()
    return tabular.download(
        args["format"],
        "customers",
        transfer.HEADERS,
        lambda read: transfer.export_rows(read, tenant, args),
        rt.db,
        stamp=use_case.caller().now().date(),
    )
