/**
 * Name, address and phone tables for synthetic people. All combinations are fictional. Kept as
 * space-separated text so the tables stay compact.
 */

function splitWords(text: string): readonly string[] {
  return text.trim().split(/\s+/);
}

export const MALE_GIVEN = splitWords(`
  James William Thomas Robert Michael David Richard Christopher Daniel Matthew Andrew Anthony Joseph
  Benjamin Nicholas Stephen Peter Edward Jonathan Alexander George Harry Oliver Jack Charlie Samuel
  Mohammed Ahmed Arjun Rajesh Tomasz Piotr Kwame Chinedu Liam Noah Ethan Lewis Callum Ryan Gareth Ian
  Keith Colin Derek Graham Malcolm Kenneth Raymond Frederick`);

export const FEMALE_GIVEN = splitWords(`
  Margaret Elizabeth Katherine Susan Jennifer Rebecca Samantha Victoria Patricia Deborah Sarah Emma
  Charlotte Olivia Amelia Sophie Jessica Hannah Abigail Lucy Fatima Aisha Priya Anjali Agnieszka Zofia
  Grace Chloe Megan Rachel Joan Dorothy Irene Sheila Brenda Pauline Janet Helen Claire Nicola Alexandra
  Christine Jacqueline Amanda Louise Isla Freya Ruby Evie Maisie`);

export const MIDDLE_GIVEN = splitWords(
  'Anne Marie Louise Jane Rose May Elizabeth John James Paul Lee Alan Edward',
);

/** Informal forms a clerk might record instead of the registered given name ("Name:nick,nick"). */
export const NICKNAMES: ReadonlyMap<string, readonly string[]> = new Map(
  splitWords(`
    James:Jim,Jimmy,Jamie William:Bill,Will,Billy Thomas:Tom,Tommy Robert:Bob,Rob,Bobby Michael:Mike,Mick
    David:Dave Richard:Rich,Dick,Richie Christopher:Chris Daniel:Dan,Danny Matthew:Matt Andrew:Andy,Drew
    Anthony:Tony Joseph:Joe Benjamin:Ben Nicholas:Nick Stephen:Steve Peter:Pete Edward:Ed,Ted,Eddie
    Jonathan:Jon,Jonny Alexander:Alex Samuel:Sam Frederick:Fred,Freddie Kenneth:Ken Raymond:Ray
    Margaret:Maggie,Peggy Elizabeth:Liz,Beth,Lizzie Katherine:Kate,Kathy,Katie Susan:Sue,Susie
    Jennifer:Jenny,Jen Rebecca:Becky,Becca Samantha:Sam,Sammy Victoria:Vicky,Tori Patricia:Pat,Trish
    Deborah:Debbie,Deb Charlotte:Lottie,Charlie Abigail:Abi,Abby Jessica:Jess Dorothy:Dot,Dottie
    Alexandra:Alex,Sandra Christine:Chris Jacqueline:Jackie Amanda:Mandy Olivia:Liv Nicola:Nicky`).map(
    (entry): [string, readonly string[]] => {
      const [name = '', nicks = ''] = entry.split(':');
      return [name, nicks.split(',')];
    },
  ),
);

export const FAMILY_NAMES = splitWords(`
  Smith Jones Williams Taylor Brown Davies Evans Wilson Thomas Johnson Roberts Robinson Thompson Wright
  Walker White Edwards Hughes Green Hall Lewis Harris Clarke Patel Jackson Wood Turner Martin Cooper Hill
  Ward Morris Moore Clark Lee King Baker Harrison Morgan Allen James Scott Phillips Watson Davis Parker
  Price Bennett Young Griffiths Mitchell Kelly Cook Carter Richardson Bailey Collins Bell Shaw Murphy
  Miller Cox Richards Khan Marshall Anderson Simpson Ellis Adams Singh Begum Wilkinson Foster Chapman
  Powell Webb Rogers Gray Mason Ali Hunt Hussain Campbell Matthews Owen Palmer Holmes Mills Barnes Knight
  Lloyd Butler Russell Barker Fisher Stevens Jenkins Murray Dixon Harvey Nowak Kowalski Okafor Mensah
  Ahmed Sharma Chowdhury Nguyen Oduya Fairbairn Ashworth Haworth Pickles Sutcliffe Greenwood Whitaker
  Ackroyd Hepworth Lockwood Crowther`);

export const STREET_NAMES = splitWords(`
  Church Station Mill Victoria Park Chapel Manor Queens Kings Green Moor Beck Fold Hawthorn Rowan Oak
  Ash Willow Brook Castle Albert Wellington Clifton Bridge Meadow Low High Northgate Westfield Holme`);

export const STREET_SUFFIXES = splitWords(
  'Street Road Lane Avenue Close Drive Terrace Way Crescent Gardens Court Grove',
);

/** Towns of the fictional county, each with the fictional 'ND' postcode districts that serve it. */
export const TOWNS: readonly (readonly [string, readonly number[]])[] = [
  ['Northdale', [1, 2, 3, 4, 5, 6]],
  ['Millbridge', [7, 8]],
  ['Eastholme', [9, 10]],
  ['Kirkton', [11, 12]],
  ['Ashcombe', [13, 14]],
  ['Westby', [15]],
  ['Stanmoor', [16, 17]],
  ['Hawthorn Green', [18]],
];

/** Letters allowed in the last two positions of a UK postcode's inward code. */
export const POSTCODE_LETTERS = 'ABDEFGHJLNPQRSTUWXYZ';

/** Ofcom reserves these ranges for drama, so they never reach a real person. */
export const PHONE_PREFIXES = ['07700 900', '0113 496 0', '0114 496 0', '0161 496 0'] as const;
