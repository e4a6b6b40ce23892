"""ORM rows and service results -> wire schemas (what the catalog views answer)."""

from __future__ import annotations

from server.catalog.categories_service import Node
from server.catalog.models import Product, Variant
from server.catalog.schemas import (
    LabelRead,
    ProductAttributeRead,
    ProductCategoryRead,
    ProductListItem,
    ProductRead,
    VariantRead,
)
from server.catalog.schemas_taxonomy import CategoryNode, MediaRead
from server.catalog.search_service import ProductSummary
from server.catalog.variants_service import live_variants


def variant_read(variant: Variant) -> VariantRead:
    return VariantRead.model_validate(variant, from_attributes=True)


def product_read(product: Product) -> ProductRead:
    """A product's detail: live variants (default first), live categories, the rest as is."""
    return ProductRead(
        **{name: getattr(product, name) for name in (
            "id", "name", "slug", "description", "short_description", "brand_id", "sku",
            "barcode", "is_taxable", "tax_rate_id", "status", "published_at", "meta_title",
            "meta_description", "meta_keywords", "created_at", "updated_at")},
        variants=[variant_read(v) for v in live_variants(product)],
        categories=[
            ProductCategoryRead(category_id=link.category_id, name=link.category.name,
                                slug=link.category.slug, is_primary=link.is_primary)
            for link in sorted(product.categories, key=lambda c: (not c.is_primary, c.id))
            if link.category.deleted_at is None
        ],
        attributes=[
            ProductAttributeRead(attribute_id=link.attribute_id, name=link.attribute.name,
                                 slug=link.attribute.slug,
                                 values=[str(v) for v in link.selected_values or []])
            for link in sorted(product.attributes,
                               key=lambda a: (a.attribute.display_order, a.attribute.name))
        ],
        labels=[LabelRead.model_validate(label, from_attributes=True)
                for label in product.labels],
        media=[MediaRead.model_validate(m, from_attributes=True) for m in product.media],
    )


def list_item(summary: ProductSummary) -> ProductListItem:
    return ProductListItem.model_validate(summary, from_attributes=True)


def node_read(node: Node) -> CategoryNode:
    c = node.category
    return CategoryNode(id=c.id, name=c.name, slug=c.slug, parent_id=c.parent_id,
                        display_order=c.display_order, is_active=c.is_active,
                        product_count=node.product_count,
                        children=[node_read(child) for child in node.children])
