"""HTTP resource for partner profiles (issue 18): PUT by admin; GET by admin, desk and the partner itself."""
from __future__ import annotations

import re

from flask import current_app
from flask.views import MethodView
from flask_smorest import Blueprint, abort
from marshmallow import Schema, ValidationError, fields, post_load, validate, validates

from services.deals import lead_handlers
from services.deals.domain.partners import PARTNER_CHANNELS, TIERS
from shared.auth import require_roles, roles_required
from shared.http import problems
from shared.reference import is_country

blp = Blueprint("partners", __name__, url_prefix="/v1/partners", description="Partner profiles")
_PARTNER_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$")


class PartnerProfileInSchema(Schema):
    tier = fields.String(required=True, validate=validate.OneOf(TIERS))
    countries = fields.List(fields.String(validate=validate.Length(max=8)), required=True,
                            validate=validate.Length(min=1, max=250, error="Give 1 to 250 countries."),
                            metadata={"description": "ISO 3166-1 alpha-2 codes the partner may sell in"})
    channels = fields.List(fields.String(validate=validate.OneOf(PARTNER_CHANNELS)), required=True,
                           validate=validate.Length(min=1, max=len(PARTNER_CHANNELS)))
    lead_capacity = fields.Integer(required=True, validate=validate.Range(min=0, max=10_000),
                                   metadata={"description": "the most open (assigned, unanswered) leads at once"})

    @validates("countries")
    def countries_are_iso(self, value, **_):
        unknown = [c for c in value if not isinstance(c, str) or not is_country(c.strip().upper())]
        if unknown:
            raise ValidationError(f"Unknown countries: {', '.join(map(str, unknown[:10]))}; use ISO 3166-1 "
                                  "alpha-2 codes such as DE or US.")

    @post_load
    def normalise(self, data, **_):
        return {**data, "countries": sorted({c.strip().upper() for c in data["countries"]})}


class PartnerProfileSchema(Schema):
    partner_id = fields.String()
    tier = fields.String()
    countries = fields.List(fields.String())
    channels = fields.List(fields.String())
    lead_capacity = fields.Integer()
    updated_at = fields.String()
    updated_by = fields.String()
    version = fields.Integer()


@blp.route("/<partner_id>")
class Partner(MethodView):
    @roles_required("admin")
    @blp.arguments(PartnerProfileInSchema())
    @blp.response(200, PartnerProfileSchema)
    @blp.alt_response(201, description="Created")
    @blp.alt_response(422, description="Validation failed")
    @problems(403)
    def put(self, fields_, partner_id):
        """Set a partner's profile (admin): tier, countries, channels, lead capacity. Published on
        deals.partners.v1."""
        principal = require_roles("admin")
        _check_id(partner_id)
        profile, created = lead_handlers.put_partner(partner_id, fields_, principal=principal,
                                                     uow=current_app.extensions["dealgate"].uow_factory())
        return profile.to_dict(), 201 if created else 200

    @blp.response(200, PartnerProfileSchema)
    @blp.alt_response(404, description="No profile, or not yours")
    @problems(403)
    def get(self, partner_id):
        """Read a profile: admin and desk any, a partner its own."""
        principal = require_roles("admin", "desk", "partner", "marketplace")
        try:
            return lead_handlers.get_partner(partner_id, principal=principal,
                                             uow=current_app.extensions["dealgate"].uow_factory()).to_dict()
        except lead_handlers.NotFound:
            abort(404, message="No such partner profile.")


def _check_id(partner_id: str) -> None:
    if not _PARTNER_ID.match(partner_id) or partner_id == "direct":
        abort(422, message="The request did not pass validation; see errors.",
              errors={"partner_id": ["1 to 100 letters, digits, '.', '_', ':' or '-'; 'direct' is the direct "
                                     "sales team, not a partner."]})
