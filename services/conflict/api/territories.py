"""HTTP resource for territories (issue 18): the admin defines them; desk and admin read them with every version."""
from __future__ import annotations

from flask import current_app
from flask.views import MethodView
from flask_smorest import Blueprint, abort
from marshmallow import Schema, fields, validate

from services.conflict import territory_handlers
from services.conflict.domain.territories import CHANNELS, TerritoryInvalid
from shared.auth import require_roles, roles_required
from shared.http import problems

blp = Blueprint("territories", __name__, url_prefix="/v1/territories", description="Territories and named accounts")


def _uow():
    return current_app.extensions["dealgate"].uow_factory()


class TerritoryInSchema(Schema):
    owner = fields.String(required=True, validate=validate.Length(min=1, max=100),
                          metadata={"description": "a partner id with a profile on deals, or 'direct'"})
    countries = fields.List(fields.String(validate=validate.Length(max=8)), required=True,
                            validate=validate.Length(max=250), metadata={"description": "ISO 3166-1 alpha-2"})
    industries = fields.List(fields.String(validate=validate.Length(min=1, max=100)),
                             validate=validate.Length(max=100))
    # Bounded so that no valid body passes 1 MiB (the API answers 413 above it): 1,000 accounts of 300 characters.
    named_accounts = fields.List(fields.String(validate=validate.Length(min=1, max=300)),
                                 validate=validate.Length(max=1000),
                                 metadata={"description": "registrable domains (any pasted form) or tax ids; "
                                                          "an account belongs to one territory"})
    channels = fields.List(fields.String(validate=validate.OneOf(CHANNELS)), validate=validate.Length(max=5))


class NamedAccountSchema(Schema):
    kind = fields.String(metadata={"enum": ["domain", "tax_id"]})
    key = fields.String(metadata={"description": "the normalised domain, or the tax id without country prefix"})
    given = fields.String()


class TerritorySchema(Schema):
    name = fields.String()
    owner = fields.String()
    countries = fields.List(fields.String())
    industries = fields.List(fields.String())
    named_accounts = fields.List(fields.Nested(NamedAccountSchema))
    channels = fields.List(fields.String())
    version = fields.Integer()
    updated_by = fields.String()
    updated_at = fields.String()


class TerritoryVersionSchema(Schema):
    version = fields.Integer()
    changed_by = fields.String()
    changed_at = fields.DateTime()
    territory = fields.Nested(TerritorySchema)


class TerritoryWithVersionsSchema(TerritorySchema):
    versions = fields.List(fields.Nested(TerritoryVersionSchema))


@blp.route("")
@blp.response(200, TerritorySchema(many=True))
@problems(403)
def list_territories():
    """Every territory, current version."""
    require_roles("desk", "admin")
    return [t.to_dict() for t in territory_handlers.list_territories(uow=_uow())]


@blp.route("/<name>")
class TerritoryResource(MethodView):
    @roles_required("admin")
    @blp.arguments(TerritoryInSchema())
    @blp.response(200, TerritorySchema)
    @blp.alt_response(201, description="Created")
    @blp.alt_response(422, description="Invalid: overlapping named accounts, unknown countries or owner")
    @problems(403)
    def put(self, body, name):
        """Define or change a territory (admin); each change is a new version with who made it, published on
        conflicts.territories.v1."""
        principal = require_roles("admin")
        try:
            territory, created = territory_handlers.put_territory(name, body, principal=principal, uow=_uow())
        except TerritoryInvalid as exc:
            abort(422, message="The territory cannot be saved; see errors.", errors=exc.errors)
        return territory.to_dict(), 201 if created else 200

    @blp.response(200, TerritoryWithVersionsSchema)
    @blp.alt_response(404, description="No such territory")
    @problems(403)
    def get(self, name):
        """A territory with every version of it, newest first."""
        require_roles("desk", "admin")
        try:
            territory, versions = territory_handlers.get_territory(name, uow=_uow())
        except territory_handlers.NotFound:
            abort(404, message="No such territory.")
        return {**territory.to_dict(), "versions": versions}
