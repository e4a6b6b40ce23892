"""The demo store's catalog: a neighbourhood grocery and general store (about 60 products).

Each entry is (category, name, unit price, options). Options with ``sizes``/``colors`` become
variants; ``per_kg`` products are sold by weight from a label scale (they carry a PLU, not an
EAN-13).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

D = Decimal

CATEGORIES: dict[str, list[str]] = {
    "Beverages": ["Coffee & Tea", "Soft Drinks", "Water & Juice"],
    "Bakery": [],
    "Dairy & Eggs": [],
    "Fresh Produce": [],
    "Snacks & Sweets": [],
    "Pantry": [],
    "Household": [],
    "Personal Care": [],
    "Apparel": [],
}

PRODUCTS: list[tuple[str, str, Decimal, dict[str, Any]]] = [
    ("Coffee & Tea", "House Blend Coffee Beans 500 g", D("11.99"), {}),
    ("Coffee & Tea", "Espresso Roast Ground 250 g", D("7.49"), {}),
    ("Coffee & Tea", "Assam Black Tea 100 bags", D("5.99"), {}),
    ("Coffee & Tea", "Green Tea Jasmine 50 bags", D("4.29"), {}),
    ("Coffee & Tea", "Instant Coffee 200 g", D("6.79"), {}),
    ("Soft Drinks", "Cola 330 ml Can", D("0.99"), {}),
    ("Soft Drinks", "Cola 6 x 330 ml", D("4.99"), {}),
    ("Soft Drinks", "Lemon Soda 1.5 l", D("1.89"), {}),
    ("Soft Drinks", "Ginger Beer 330 ml", D("1.49"), {}),
    ("Water & Juice", "Spring Water 500 ml", D("0.79"), {}),
    ("Water & Juice", "Sparkling Water 1 l", D("1.19"), {}),
    ("Water & Juice", "Orange Juice 1 l", D("3.49"), {}),
    ("Water & Juice", "Apple Juice 1 l", D("2.99"), {}),
    ("Bakery", "Sourdough Loaf", D("4.50"), {}),
    ("Bakery", "Whole Wheat Bread", D("2.95"), {}),
    ("Bakery", "Butter Croissant", D("1.35"), {}),
    ("Bakery", "Blueberry Muffin", D("1.95"), {}),
    ("Bakery", "Bagels 4 pack", D("3.25"), {}),
    ("Dairy & Eggs", "Whole Milk 1 l", D("1.29"), {}),
    ("Dairy & Eggs", "Oat Milk 1 l", D("2.49"), {}),
    ("Dairy & Eggs", "Free Range Eggs 12", D("4.19"), {}),
    ("Dairy & Eggs", "Greek Yogurt 500 g", D("3.59"), {}),
    ("Dairy & Eggs", "Cheddar Cheese 250 g", D("4.99"), {}),
    ("Dairy & Eggs", "Salted Butter 250 g", D("3.29"), {}),
    ("Fresh Produce", "Bananas", D("1.29"), {"per_kg": True}),
    ("Fresh Produce", "Gala Apples", D("3.49"), {"per_kg": True}),
    ("Fresh Produce", "Tomatoes on the Vine", D("4.99"), {"per_kg": True}),
    ("Fresh Produce", "Carrots", D("1.59"), {"per_kg": True}),
    ("Fresh Produce", "Red Onions", D("2.19"), {"per_kg": True}),
    ("Fresh Produce", "Avocado", D("1.49"), {}),
    ("Fresh Produce", "Lemons 4 pack", D("2.29"), {}),
    ("Snacks & Sweets", "Sea Salt Crisps 150 g", D("2.29"), {}),
    ("Snacks & Sweets", "Dark Chocolate 70% 100 g", D("2.79"), {}),
    ("Snacks & Sweets", "Milk Chocolate Bar 45 g", D("1.10"), {}),
    ("Snacks & Sweets", "Salted Peanuts 200 g", D("2.49"), {}),
    ("Snacks & Sweets", "Oat Cookies 300 g", D("3.19"), {}),
    ("Snacks & Sweets", "Gummy Bears 200 g", D("1.99"), {}),
    ("Pantry", "Basmati Rice 1 kg", D("3.99"), {}),
    ("Pantry", "Spaghetti 500 g", D("1.49"), {}),
    ("Pantry", "Chopped Tomatoes 400 g", D("0.89"), {}),
    ("Pantry", "Extra Virgin Olive Oil 500 ml", D("7.99"), {}),
    ("Pantry", "Red Lentils 1 kg", D("2.89"), {}),
    ("Pantry", "Wildflower Honey 340 g", D("5.49"), {}),
    ("Pantry", "Peanut Butter 340 g", D("3.39"), {}),
    ("Household", "Dish Soap 500 ml", D("2.49"), {}),
    ("Household", "Laundry Detergent 1.5 l", D("8.99"), {}),
    ("Household", "Paper Towels 2 rolls", D("3.49"), {}),
    ("Household", "Bin Bags 20 pack", D("2.99"), {}),
    ("Household", "AA Batteries 4 pack", D("5.99"), {}),
    ("Household", "LED Bulb E27", D("4.49"), {}),
    ("Personal Care", "Toothpaste 100 ml", D("2.79"), {}),
    ("Personal Care", "Bamboo Toothbrush", D("3.49"), {}),
    ("Personal Care", "Shampoo 400 ml", D("4.99"), {}),
    ("Personal Care", "Hand Soap 250 ml", D("2.19"), {}),
    ("Personal Care", "Sunscreen SPF 50", D("9.99"), {}),
    (
        "Apparel",
        "StormCom Logo T-Shirt",
        D("19.00"),
        {"sizes": ["S", "M", "L", "XL"], "colors": ["Black", "White"]},
    ),
    ("Apparel", "Canvas Tote Bag", D("12.00"), {"colors": ["Natural", "Navy"]}),
    ("Apparel", "Knit Beanie", D("15.00"), {"colors": ["Grey", "Red", "Navy"]}),
    ("Apparel", "Sport Socks 3 pack", D("9.50"), {"sizes": ["S", "M", "L"]}),
    ("Apparel", "Rain Poncho", D("7.50"), {}),
]
